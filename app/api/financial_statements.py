"""/v1/organizations/{org_id}/financial-statements: the figures behind a score."""

from __future__ import annotations

from app import schemas
from app.access import AccessContext, Scenario
from app.api import bp
from app.api.endpoints import api_endpoint
from app.api.organizations import OrganizationPath, the_target
from app.schemas import Role
from app.services import financial_statements
from app.services.audit import Actor

TAG = "Analytics"


@api_endpoint(
    bp,
    "POST",
    "/organizations/<org_id>/financial-statements",
    summary="Add a financial statement",
    tag=TAG,
    scenarios={Scenario.SELF},
    path=OrganizationPath,
    body=schemas.FinancialStatementCreate,
    response=schemas.FinancialStatement,
    status=201,
    minimum_role=Role.ADMIN,
)
def add_financial_statement(
    access: AccessContext, path: OrganizationPath, body: schemas.FinancialStatementCreate
) -> schemas.FinancialStatement:
    """Record one statement of the organization itself; its next analytics run scores it.

    Amounts are decimals (a JSON number or a string, at most 2 decimals) in `currency`.
    `total_assets` and `total_liabilities` are more than 0, the current ones 0 or more and at
    most their totals; `retained_earnings`, `ebit` and `equity` may be negative. Every bad
    field is named in the 422. Only the organization reads its statements: hosts see runs.
    """
    return financial_statements.add_statement(
        the_target(access, path), body, actor=Actor.of(access.principal)
    )


@api_endpoint(
    bp,
    "GET",
    "/organizations/<org_id>/financial-statements",
    summary="List the financial statements",
    tag=TAG,
    scenarios={Scenario.SELF},
    path=OrganizationPath,
    query=schemas.Page,
    response=schemas.FinancialStatementList,
)
def list_financial_statements(
    access: AccessContext, path: OrganizationPath, query: schemas.Page
) -> schemas.FinancialStatementList:
    """List the organization's statements, newest period first (`limit`, `offset`)."""
    return financial_statements.list_statements(the_target(access, path), query)
