"""The web side of labs: pages, the lab WebSocket and the services they call; runs in Daphne."""
