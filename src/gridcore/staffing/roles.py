"""Roles and duties (角色、职责): who may hold a post, and the lines of work a grid answers for."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class Role(StrEnum):
    """A role a person holds in an area (DOMAIN.md section 2)."""

    ASSISTANT = "assistant"
    """网格协管员: the direct responsible person; finds and reports problems."""
    MANAGER = "manager"
    """网格管理员: the first responsible person; verifies, mediates, handles."""
    SUPERVISOR = "supervisor"
    """网格督导员: a street official who checks and urges."""
    CHIEF = "chief"
    """网格长: grid chief, leading backbone volunteers (Jiangsu)."""
    FULL_DUTY = "full_duty_worker"
    """专职网格员: one full-time worker per grid doing the six duties (Yichang)."""
    VOLUNTEER_INFORMATION = "volunteer_information"
    VOLUNTEER_SANITATION = "volunteer_sanitation"
    VOLUNTEER_PATROL = "volunteer_patrol"
    VOLUNTEER_MEDIATION = "volunteer_mediation"
    VOLUNTEER_LABOUR = "volunteer_labour"
    VOLUNTEER_ELDERLY_CARE = "volunteer_elderly_care"
    VOLUNTEER_FAMILY_PLANNING = "volunteer_family_planning"
    VOLUNTEER_COUNSELLING = "volunteer_counselling"
    OFFICER = "department_officer"
    """职能部门工作人员: an officer of a functional department."""


ROLE_ZH: Mapping[Role, str] = MappingProxyType(
    {
        Role.ASSISTANT: "网格协管员",
        Role.MANAGER: "网格管理员",
        Role.SUPERVISOR: "网格督导员",
        Role.CHIEF: "网格长",
        Role.FULL_DUTY: "专职网格员",
        Role.VOLUNTEER_INFORMATION: "信息员",
        Role.VOLUNTEER_SANITATION: "保洁员",
        Role.VOLUNTEER_PATROL: "巡防员",
        Role.VOLUNTEER_MEDIATION: "调解员",
        Role.VOLUNTEER_LABOUR: "劳动保障协理员",
        Role.VOLUNTEER_ELDERLY_CARE: "助老员",
        Role.VOLUNTEER_FAMILY_PLANNING: "计生员",
        Role.VOLUNTEER_COUNSELLING: "心理咨询员",
        Role.OFFICER: "部门工作人员",
    }
)
"""The Chinese name of each role."""

VOLUNTEERS: tuple[Role, ...] = tuple(r for r in Role if r.name.startswith("VOLUNTEER_"))
"""The eight kinds of volunteers that support grid workers (Yichang)."""


class Duty(StrEnum):
    """A line of work a grid answers for: the six duties of a full-duty worker (Yichang)."""

    INFORMATION = "information_collection"
    ORDER = "comprehensive_order"
    LABOUR = "labour_security"
    CIVIL = "civil_affairs"
    FAMILY_PLANNING = "family_planning"
    CITY_MANAGEMENT = "city_management"


DUTY_ZH: Mapping[Duty, str] = MappingProxyType(
    {
        Duty.INFORMATION: "信息采集",
        Duty.ORDER: "综合治理",
        Duty.LABOUR: "劳动保障",
        Duty.CIVIL: "民政服务",
        Duty.FAMILY_PLANNING: "计划生育",
        Duty.CITY_MANAGEMENT: "城市管理",
    }
)
"""The Chinese name of each duty."""

SIX_DUTIES: tuple[Duty, ...] = tuple(Duty)
"""一格一员、综合履职: the six duties one full-duty worker does."""

LEAF = "@leaf"
"""In a policy, the name that stands for the scheme's leaf level (grid, household group...)."""
