"""The generation-2 (2.x server line) edge of the dev server: cluster info, capabilities,
payload codec enforcement, request validation against the vendored specs and the extra
operations. The engine below is shared with generation 1."""
