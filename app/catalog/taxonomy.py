"""The fixed vocabularies of the catalog: categories, fields and competent departments.

Codes are stored; labels are translated for display. Fields and departments follow the
annual training plan (知识更新工程 能力提升项目计划), whose Chinese names map to codes here.
"""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l


class Category(StrEnum):
    PUBLIC = "public"  # 公需科目
    PROFESSIONAL = "professional"  # 专业科目

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self]


CATEGORY_LABELS = {
    Category.PUBLIC: _l("Public subject"),
    Category.PROFESSIONAL: _l("Professional subject"),
}


class Field(StrEnum):
    """The 15 fields of the annual plan, in its column order."""

    NEXT_GEN_IT = "next_gen_it"
    BIOTECH = "biotech"
    NEW_ENERGY = "new_energy"
    NEW_MATERIALS = "new_materials"
    HIGH_END_EQUIPMENT = "high_end_equipment"
    NEW_ENERGY_VEHICLES = "new_energy_vehicles"
    GREEN_ENVIRONMENT = "green_environment"
    AEROSPACE = "aerospace"
    MARINE_EQUIPMENT = "marine_equipment"
    DIGITAL_TECH = "digital_tech"
    INTELLECTUAL_PROPERTY = "intellectual_property"
    CYBERSECURITY = "cybersecurity"
    EMERGENCY_MANAGEMENT = "emergency_management"
    RURAL_REVITALISATION = "rural_revitalisation"
    OTHER = "other"

    @property
    def label(self) -> str:
        return FIELD_LABELS[self]


FIELD_LABELS = {
    Field.NEXT_GEN_IT: _l("Next-generation information technology"),
    Field.BIOTECH: _l("Biotechnology"),
    Field.NEW_ENERGY: _l("New energy"),
    Field.NEW_MATERIALS: _l("New materials"),
    Field.HIGH_END_EQUIPMENT: _l("High-end equipment"),
    Field.NEW_ENERGY_VEHICLES: _l("New-energy vehicles"),
    Field.GREEN_ENVIRONMENT: _l("Green and environmental protection"),
    Field.AEROSPACE: _l("Aerospace"),
    Field.MARINE_EQUIPMENT: _l("Marine equipment"),
    Field.DIGITAL_TECH: _l("Digital technology"),
    Field.INTELLECTUAL_PROPERTY: _l("Intellectual property"),
    Field.CYBERSECURITY: _l("Cybersecurity"),
    Field.EMERGENCY_MANAGEMENT: _l("Emergency management"),
    Field.RURAL_REVITALISATION: _l("Rural revitalisation"),
    Field.OTHER: _l("Other"),
}

#: Column names of the annual plan → field codes.
FIELD_BY_PLAN_NAME = {
    "新一代信息技术": Field.NEXT_GEN_IT,
    "生物技术": Field.BIOTECH,
    "新能源": Field.NEW_ENERGY,
    "新材料": Field.NEW_MATERIALS,
    "高端装备": Field.HIGH_END_EQUIPMENT,
    "新能源汽车": Field.NEW_ENERGY_VEHICLES,
    "绿色环保": Field.GREEN_ENVIRONMENT,
    "航空航天": Field.AEROSPACE,
    "海洋装备": Field.MARINE_EQUIPMENT,
    "数字技术": Field.DIGITAL_TECH,
    "知识产权": Field.INTELLECTUAL_PROPERTY,
    "网络安全": Field.CYBERSECURITY,
    "应急管理": Field.EMERGENCY_MANAGEMENT,
    "乡村振兴": Field.RURAL_REVITALISATION,
    "其他": Field.OTHER,
}


class Department(StrEnum):
    """Competent departments (主管部门) of the annual plan, plus the ministry itself."""

    CAC = "cac"
    NDRC = "ndrc"
    MOE = "moe"
    MOST = "most"
    MIIT = "miit"
    MOF = "mof"
    MNR = "mnr"
    MEE = "mee"
    MOT = "mot"
    MARA = "mara"
    MEM = "mem"
    SAMR = "samr"
    CNIPA = "cnipa"
    CAS = "cas"
    NEA = "nea"
    MOHRSS = "mohrss"
    OTHER = "other"

    @property
    def label(self) -> str:
        return DEPARTMENT_LABELS[self]


DEPARTMENT_LABELS = {
    Department.CAC: _l("Cyberspace Administration of China"),
    Department.NDRC: _l("National Development and Reform Commission"),
    Department.MOE: _l("Ministry of Education"),
    Department.MOST: _l("Ministry of Science and Technology"),
    Department.MIIT: _l("Ministry of Industry and Information Technology"),
    Department.MOF: _l("Ministry of Finance"),
    Department.MNR: _l("Ministry of Natural Resources"),
    Department.MEE: _l("Ministry of Ecology and Environment"),
    Department.MOT: _l("Ministry of Transport"),
    Department.MARA: _l("Ministry of Agriculture and Rural Affairs"),
    Department.MEM: _l("Ministry of Emergency Management"),
    Department.SAMR: _l("State Administration for Market Regulation"),
    Department.CNIPA: _l("China National Intellectual Property Administration"),
    Department.CAS: _l("Chinese Academy of Sciences"),
    Department.NEA: _l("National Energy Administration"),
    Department.MOHRSS: _l("Ministry of Human Resources and Social Security"),
    Department.OTHER: _l("Other department"),
}

#: Row names of the annual plan → department codes.
DEPARTMENT_BY_PLAN_NAME = {
    "中央网信办": Department.CAC,
    "国家发展改革委": Department.NDRC,
    "教育部": Department.MOE,
    "科技部": Department.MOST,
    "工业和信息化部": Department.MIIT,
    "财政部": Department.MOF,
    "自然资源部": Department.MNR,
    "生态环境部": Department.MEE,
    "交通运输部": Department.MOT,
    "农业农村部": Department.MARA,
    "应急管理部": Department.MEM,
    "市场监管总局": Department.SAMR,
    "国家知识产权局": Department.CNIPA,
    "中国科学院": Department.CAS,
    "国家能源局": Department.NEA,
    "人力资源社会保障部": Department.MOHRSS,
}


class LessonKind(StrEnum):
    VIDEO = "video"
    DOCUMENT = "document"
    PACKAGE = "package"

    @property
    def label(self) -> str:
        return LESSON_KIND_LABELS[self]


LESSON_KIND_LABELS = {
    LessonKind.VIDEO: _l("Video"),
    LessonKind.DOCUMENT: _l("Document"),
    LessonKind.PACKAGE: _l("Course package"),
}
