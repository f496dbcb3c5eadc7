"""Insights: the network map, the network metrics, the impact dashboard and equality
monitoring.

The standard shape, each file a package split by sub-domain (map, metrics, impact,
equality, platform): `selectors/` reads, `services/` writes, `apis/` and `views/` serve
them, `tasks.py` runs services in the background, `urls.py` routes. Three modules are pure
computation with no database, tested on hand-built data: `graph` (who helped whom, as
edges), `metrics` (components, crossing rates, brokers) and `suppression` (small-number
suppression of published tables). `demo.py` seeds the demonstration network.
"""
