"""Reading insights: the map and its edges, metrics, impact tables, equality figures and
reports, and the figures across networks for platform staff. The permission-checked reads
(the equality report for organisers, the platform figures for staff) are here too."""
