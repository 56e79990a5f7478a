"""Demo data for a newcomer's first run: safe to load twice, refused in production."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.identity import IdType, make_resident_id
from app.auth.models import TitleLevel, User
from app.auth.services import Identity, create_user
from app.catalog.models import Course, CourseStatus
from app.catalog.services import CourseSpec, LessonSpec, create_course, get_or_create_provider
from app.catalog.taxonomy import Category, Department, Field, LessonKind
from app.orgs.credit_code import make_credit_code
from app.orgs.services import get_or_create_organisation
from app.permissions import Role

#: The password of every demo account; printed by ``flask seed demo`` and in the README.
DEMO_PASSWORD = "Zhixin2025"  # noqa: S105 (demo data, refused outside debug)


@dataclass(frozen=True)
class DemoUser:
    name: str
    mobile: str
    role: Role
    birth: date
    sequence: int


DEMO_USERS = (
    DemoUser("张学习", "13800000001", Role.LEARNER, date(1988, 3, 14), 101),
    DemoUser("李作者", "13800000002", Role.AUTHOR, date(1979, 11, 2), 212),
    DemoUser("王审核", "13800000003", Role.REVIEWER, date(1975, 6, 30), 313),
    DemoUser("赵人事", "13800000004", Role.HR, date(1983, 1, 9), 424),
    DemoUser("陈管理", "13800000005", Role.ADMIN, date(1970, 8, 21), 535),
)

_V, _D = LessonKind.VIDEO, LessonKind.DOCUMENT

DEMO_COURSES = (
    (
        "ZX-2025-001",
        "习近平新时代中国特色社会主义思想专题学习",
        Category.PUBLIC,
        Field.OTHER,
        Department.MOHRSS,
        "6",
        [("专题导论", _V, 1800), ("核心要义", _V, 2700), ("学习笔记", _D, 30)],
    ),
    (
        "ZX-2025-002",
        "专业技术人员职业道德与诚信建设",
        Category.PUBLIC,
        Field.OTHER,
        Department.MOHRSS,
        "4",
        [("职业道德概述", _V, 1500), ("诚信案例", _V, 1200)],
    ),
    (
        "ZX-2025-003",
        "数字经济与数字政府建设",
        Category.PUBLIC,
        Field.DIGITAL_TECH,
        Department.NDRC,
        "5",
        [("数字经济发展趋势", _V, 2400), ("数字政府实践", _V, 2100)],
    ),
    (
        "ZX-2025-004",
        "人工智能大模型技术与应用",
        Category.PROFESSIONAL,
        Field.NEXT_GEN_IT,
        Department.MIIT,
        "12",
        [("大模型原理", _V, 3000), ("行业应用", _V, 2700), ("安全与治理", _V, 2400)],
    ),
    (
        "ZX-2025-005",
        "网络安全等级保护2.0实务",
        Category.PROFESSIONAL,
        Field.CYBERSECURITY,
        Department.CAC,
        "8",
        [("等级保护概述", _V, 2400), ("测评要点", _V, 2700)],
    ),
    (
        "ZX-2025-006",
        "新型储能技术与产业发展",
        Category.PROFESSIONAL,
        Field.NEW_ENERGY,
        Department.NEA,
        "10",
        [("储能技术路线", _V, 2700), ("电站安全", _V, 2400)],
    ),
    (
        "ZX-2025-007",
        "生物医药创新与临床转化",
        Category.PROFESSIONAL,
        Field.BIOTECH,
        Department.MOST,
        "8",
        [("创新药研发", _V, 2400), ("临床转化", _V, 2400)],
    ),
    (
        "ZX-2025-008",
        "安全生产与应急救援能力提升",
        Category.PROFESSIONAL,
        Field.EMERGENCY_MANAGEMENT,
        Department.MEM,
        "6",
        [("风险辨识", _V, 1800), ("应急预案", _V, 1800), ("案例复盘", _D, 40)],
    ),
    (
        "ZX-2025-009",
        "高标准农田建设与乡村振兴",
        Category.PROFESSIONAL,
        Field.RURAL_REVITALISATION,
        Department.MARA,
        "6",
        [("政策解读", _V, 2100), ("建设实务", _V, 2100)],
    ),
    (
        "ZX-2025-010",
        "知识产权保护与运营",
        Category.PROFESSIONAL,
        Field.INTELLECTUAL_PROPERTY,
        Department.CNIPA,
        "6",
        [("专利布局", _V, 2100), ("运营转化", _V, 1800)],
    ),
    (
        "ZX-2025-011",
        "碳达峰碳中和与绿色低碳技术",
        Category.PROFESSIONAL,
        Field.GREEN_ENVIRONMENT,
        Department.MEE,
        "8",
        [("双碳政策", _V, 2400), ("减排技术", _V, 2400)],
    ),
    (
        "ZX-2025-012",
        "先进材料表征与应用",
        Category.PROFESSIONAL,
        Field.NEW_MATERIALS,
        Department.CAS,
        "10",
        [("材料表征", _V, 2700), ("应用案例", _V, 2400)],
    ),
)

#: A course left in draft so authors and reviewers see one that is not public.
DRAFT_COURSE = (
    "ZX-2025-013", "智能网联新能源汽车技术（编写中）", Category.PROFESSIONAL,
    Field.NEW_ENERGY_VEHICLES, Department.MIIT, "8", [("整车架构", _V, 2400)],
)  # fmt: skip


def seed_demo(session: Session, *, year: int) -> dict[str, int]:
    """Create the demo organisation, provider, one account per role and the courses.

    Idempotent: existing rows (by credit code, provider code, mobile, course code) are
    kept as they are. Returns how many rows of each kind were created.
    """
    created = {"users": 0, "courses": 0}
    org = get_or_create_organisation(
        session, make_credit_code("91110108MA01XY8D0"), "知新示范科技有限公司"
    )
    get_or_create_organisation(session, make_credit_code("12100000400012345"), "示范市第一医院")
    provider = get_or_create_provider(session, "ZX-DEMO", "知新继续教育示范基地")

    for demo in DEMO_USERS:
        if session.scalar(select(User.id).filter_by(mobile=demo.mobile)):
            continue
        number = make_resident_id("110105", demo.birth, demo.sequence)
        identity = Identity(
            IdType.RESIDENT_ID,
            number,
            None,
            demo.birth,
            "110105",
        )
        roles = {demo.role} if demo.role == Role.LEARNER else {demo.role, Role.LEARNER}
        create_user(
            session,
            name=demo.name,
            mobile=demo.mobile,
            password=DEMO_PASSWORD,
            roles=roles,
            identity=_with_gender(identity),
            organisation_id=org.id,
            provider_id=provider.id if demo.role == Role.AUTHOR else None,
            title="工程师",
            title_level=TitleLevel.INTERMEDIATE,
        )
        created["users"] += 1

    for row in (*DEMO_COURSES, DRAFT_COURSE):
        code, title, category, field, department, hours, lessons = row
        if session.scalar(select(Course.id).filter_by(code=code)):
            continue
        spec = CourseSpec(
            code=code,
            title=title,
            category=category,
            field=field,
            department=department,
            hours=hours,
            years=(year - 1, year) if int(hours) <= 6 else (year,),
            summary=f"{title}。本课程为知新平台示范课程，供体验选课与学习流程。",
            lessons=tuple(
                LessonSpec(
                    name,
                    kind,
                    duration_seconds=length if kind == _V else None,
                    required_minutes=length if kind == _D else None,
                )
                for name, kind, length in lessons
            ),
        )
        course = create_course(session, provider, spec)
        if row is not DRAFT_COURSE:
            course.submit_for_review()
            course.publish()
        created["courses"] += 1
    session.flush()
    _enrol_demo_learner(session)
    return created


def _enrol_demo_learner(session: Session) -> None:
    """The demo learner starts enrolled in the course that has playable lessons."""
    from app.learning.services import enrol

    learner = session.scalar(select(User).filter_by(mobile=DEMO_USERS[0].mobile))
    course = session.scalar(select(Course).filter_by(code=DEMO_MEDIA[0][0]))
    if learner is not None and course is not None and course.is_open_for_enrolment:
        enrol(session, learner, course)


#: Lessons that get real, synthesized media: (course code, lesson position, what to make).
#: One 720p clip shows the full ladder; the others take the remux fast path.
DEMO_MEDIA = (
    ("ZX-2025-001", 1, {"seconds": 24, "width": 640, "height": 360, "tone_hz": 440}),
    ("ZX-2025-001", 2, {"seconds": 20, "width": 640, "height": 360, "tone_hz": 523}),
    ("ZX-2025-001", 3, "pdf"),
    ("ZX-2025-004", 1, {"seconds": 12, "width": 1280, "height": 720, "pix_fmt": "yuv444p"}),
    ("ZX-2025-005", 1, {"seconds": 20, "width": 640, "height": 360, "tone_hz": 392}),
)


def seed_demo_media(session: Session) -> list[int]:
    """Synthesize the demo lessons' videos and notes and queue their processing.

    Lessons that already have a file are left alone. Returns the ids of the queued jobs' assets.
    """
    from pathlib import Path
    from tempfile import TemporaryDirectory

    from app.catalog.models import Lesson
    from app.media.services import import_file
    from app.media.storage import get_storage
    from courseware.synth import make_test_clip, make_text_pdf

    author = session.scalar(select(User).filter_by(mobile=DEMO_USERS[1].mobile))
    queued = []
    with TemporaryDirectory(prefix="zhixin-demo-") as folder:
        for code, position, recipe in DEMO_MEDIA:
            lesson = session.scalar(
                select(Lesson)
                .join(Course, Course.id == Lesson.course_id)
                .where(Course.code == code, Lesson.position == position)
            )
            if lesson is None or lesson.media_asset_id is not None:
                continue
            path = Path(folder) / f"{code}-{position}"
            if recipe == "pdf":
                path = path.with_suffix(".pdf")
                make_text_pdf(path, DEMO_NOTES)
            else:
                path = path.with_suffix(".mp4")
                make_test_clip(path, **recipe)
            status = lesson.course.status
            asset = import_file(session, get_storage(), author, lesson, path)
            if status == CourseStatus.PUBLISHED:  # demo media needs no second review
                lesson.course.submit_for_review()
                lesson.course.publish()
            queued.append(asset.id)
    return queued


DEMO_NOTES = [
    [
        "Zhixin demo study notes",
        "",
        "1. Why continuing education matters",
        "2. 90 credit hours a year",
    ],
    ["Public subjects and professional subjects", "", "At least two thirds professional."],
]


def _with_gender(identity: Identity) -> Identity:
    from app.auth.identity import parse_resident_id

    resident = parse_resident_id(identity.number)
    return Identity(
        identity.id_type,
        resident.number,
        resident.gender,
        resident.birth_date,
        resident.region_code,
    )
