"""The insights pages: the map and metrics (views.map), the impact dashboard
(views.impact) and equality monitoring (views.equality)."""
