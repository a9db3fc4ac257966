"""Every officer route declares its roles (read by the role-matrix test) and maps to the right ones."""

from __future__ import annotations

from serambi_complaints.api import officer_router, public_router

EXPECTED = {
    ("POST", "/api/v1/officer/complaints"): {"complaint_officer", "admin"},
    ("GET", "/api/v1/officer/complaints"): {"complaint_officer", "complaint_team", "supervisor", "admin"},
    ("GET", "/api/v1/officer/complaints/{tracking_code}"): {
        "complaint_officer",
        "complaint_team",
        "supervisor",
        "admin",
    },
    ("GET", "/api/v1/officer/complaints/{tracking_code}/complainant"): {
        "complaint_officer",
        "complaint_team",
        "supervisor",
        "admin",
    },
    ("GET", "/api/v1/officer/complaints/{tracking_code}/attachments/{document_id}"): {
        "complaint_officer",
        "complaint_team",
        "supervisor",
        "admin",
    },
    ("POST", "/api/v1/officer/complaints/{tracking_code}/classify"): {
        "complaint_officer",
        "complaint_team",
        "supervisor",
        "admin",
    },
    ("POST", "/api/v1/officer/complaints/{tracking_code}/assign"): {
        "complaint_officer",
        "supervisor",
        "admin",
    },
    ("POST", "/api/v1/officer/complaints/{tracking_code}/answer"): {"complaint_team", "supervisor", "admin"},
    ("POST", "/api/v1/officer/complaints/{tracking_code}/close"): {
        "complaint_officer",
        "complaint_team",
        "supervisor",
        "admin",
    },
    ("POST", "/api/v1/officer/complaints/{tracking_code}/pause"): {
        "complaint_officer",
        "complaint_team",
        "supervisor",
        "admin",
    },
    ("POST", "/api/v1/officer/complaints/{tracking_code}/resume"): {
        "complaint_officer",
        "complaint_team",
        "supervisor",
        "admin",
    },
    ("POST", "/api/v1/officer/complaints/{tracking_code}/reopen"): {
        "complaint_officer",
        "supervisor",
        "admin",
    },
    ("GET", "/api/v1/officer/reports/monthly"): {"supervisor", "admin"},
}


def declared_roles(route) -> set[str]:
    roles: set[str] = set()
    for dependency in route.dependant.dependencies:
        roles |= set(getattr(dependency.call, "roles", ()))
    return roles


def test_every_officer_route_requires_its_roles():
    found = {
        (method, route.path): declared_roles(route)
        for route in officer_router.routes
        for method in route.methods
    }
    assert found == EXPECTED


def test_public_routes_need_no_officer_token():
    assert all(not declared_roles(route) for route in public_router.routes)
    assert {route.path for route in public_router.routes} == {
        "/api/v1/complaints",
        "/api/v1/complaints/{tracking_code}",
        "/api/v1/complaints/{tracking_code}/dispute",
        "/api/v1/complaints/{tracking_code}/resend-link",
    }
