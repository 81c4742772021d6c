"""The lab-node side of exercises: setup, grading and verifying in sandboxes through the topology daemon;
runs in the lab-node Celery worker, or in-process when embedded."""
