"""The insights API: the map and metrics (apis.map) and equality monitoring
(apis.equality)."""
