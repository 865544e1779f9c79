"""A simulated OpenD that speaks the real wire protocol, for demos and end-to-end tests."""
