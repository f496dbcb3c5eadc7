"""Members' data rights: downloading everything the network holds about oneself, closing
one's account, and the network's privacy page (docs/privacy.md)."""
