"""Browser sessions: the signed-in user's id beside the session's data.

Every page read its session, then its user with their memberships: two statements, two round
trips on PostgreSQL, before its own reads. With the user's id in a column of the session's row
(written whenever the session is), one statement reads the session and joins who is signed in
(app/services/sessions.py). Sessions saved before this have no id there: their user is read on
its own until the session is next written back (within a minute of use).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 11:20:00

"""

import sqlalchemy as sa
from alembic import op

from app.migrations.batch import drop_columns_in_place

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    # Nullable, without a default or constraint: added in place on SQLite too (no rebuild).
    op.add_column("browser_sessions", sa.Column("user_id", sa.Uuid(), nullable=True))


def downgrade():
    drop_columns_in_place("browser_sessions", "user_id")
