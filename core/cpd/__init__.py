"""A member's CPD and revalidation record: every completed exchange and confirmed project
contribution (and, through `sources.SOURCES`, whatever else an app contributes) as an
entry, with the member's own reflections and corrections, totals against the scheme they
revalidate under, and downloads whose code an appraiser can check without signing in."""
