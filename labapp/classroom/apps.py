from django.apps import AppConfig


class ClassroomConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "labapp.classroom"
    label = "classroom"

    def ready(self) -> None:
        """Listen to grades, attempts, lab statuses and enrolments (the live grid); plug the watch notice
        and messages into the lab page and the student's classes into the course pages; keep Instructors."""
        from django.db.models.signals import post_delete, post_migrate, post_save

        from labapp.classroom import live, roles
        from labapp.classroom.frames import LAB_FRAMES
        from labapp.classroom.models import Enrolment
        from labapp.classroom.web.course_page import CLASSES_SECTION
        from labapp.classroom.web.lab_page import NOTICE_PANEL
        from labapp.classroom.web.watching import lab_join_frames
        from labapp.exercises.hooks import course_section_add
        from labapp.exercises.models import Attempt
        from labapp.exercises.records import attempt_graded
        from labapp.labs import hooks

        attempt_graded.connect(live.on_attempt_graded, dispatch_uid="classroom-graded")
        post_save.connect(live.on_attempt_saved, sender=Attempt, dispatch_uid="classroom-attempt")
        post_save.connect(live.on_enrolment_changed, sender=Enrolment, dispatch_uid="classroom-joined")
        post_delete.connect(live.on_enrolment_changed, sender=Enrolment, dispatch_uid="classroom-left")
        hooks.lab_status_changed.connect(live.on_lab_status, dispatch_uid="classroom-lab-status")
        # The student's lab page: who watches it, and the instructors' messages.
        hooks.lab_panel_add(NOTICE_PANEL)
        hooks.join_frames_add("classroom", lab_join_frames)
        for type_, schema in LAB_FRAMES.items():
            hooks.group_frame_add(type_, schema)
        # The course pages: the student's classes.
        course_section_add(CLASSES_SECTION)
        post_migrate.connect(roles.on_post_migrate, sender=self, dispatch_uid="classroom-roles")
