"""Stories: after an exchange (and, through `sources.SOURCES`, whatever else an app
contributes), either side writes what changed for their patients or team, consenting or
not to its publication; organisers pick consented stories for the network's impact page
and its public home. A withdrawn story disappears everywhere."""
