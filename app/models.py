"""Every model module, imported so the metadata is complete (for Alembic and tests)."""

from app.audit.models import AuditEvent
from app.auth.models import User, UserRole
from app.catalog.models import Course, CourseYear, Lesson, Provider
from app.learning.models import Enrolment
from app.orgs.models import Organisation

__all__ = [
    "AuditEvent",
    "Course",
    "CourseYear",
    "Enrolment",
    "Lesson",
    "Organisation",
    "Provider",
    "User",
    "UserRole",
]
