"""HTTP layer: the ASGI app, its routes per plane, auth, the error contract."""
