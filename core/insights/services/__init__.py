"""Writing insights: storing the map and metrics and queueing their refresh, and a
member's equality answers, the month's snapshot and the audited export."""
