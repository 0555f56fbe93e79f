"""Image uploads: verified, re-encoded images stored per user, and the reader the engine uses for them."""
