"""The web side of exercises: course pages, starting attempts, hints, the lab page's exercise panel and
its `attempt.check` frame; runs in Daphne."""
