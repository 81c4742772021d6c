"""The lab-node side of labs: kernel work through the topology daemon (the agent, the lifecycle tasks'
bodies, the watcher, the terminal); runs in the lab-node Celery worker, or in-process when embedded."""
