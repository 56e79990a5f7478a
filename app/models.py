"""Every model module, imported so the metadata is complete (for Alembic and tests)."""

from app.audit.models import AuditEvent
from app.auth.models import User, UserRole
from app.catalog.models import Course, CourseEvent, CourseYear, Lesson, Provider
from app.credits.models import CreditRecord, RulePack
from app.jobs.models import Job
from app.learning.models import Enrolment
from app.learning.progress_models import (
    DailyStudy,
    Heartbeat,
    LessonProgress,
    PlaybackSession,
)
from app.media.models import MediaAsset, Upload
from app.orgs.models import Organisation

__all__ = [
    "AuditEvent",
    "Course",
    "CourseEvent",
    "CourseYear",
    "CreditRecord",
    "DailyStudy",
    "Enrolment",
    "Heartbeat",
    "Job",
    "Lesson",
    "LessonProgress",
    "MediaAsset",
    "Organisation",
    "PlaybackSession",
    "Provider",
    "RulePack",
    "Upload",
    "User",
    "UserRole",
]
