"""Services: the platform's use cases, between the API/tasks and the clients/tiers."""
