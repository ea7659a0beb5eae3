"""No two active bookings of one post overlap: a PostgreSQL exclusion constraint on
(shop, post, tstzrange(starts_at, ends_at)) with btree_gist for the equality parts.

It is not in the model's Meta because the embedded SQLite default has no exclusion
constraints: there the operation does nothing and booking.services serialises writers.
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

CREATE = """
ALTER TABLE booking_booking ADD CONSTRAINT booking_no_overlap
EXCLUDE USING gist (
    shop_id WITH =,
    post WITH =,
    tstzrange(starts_at, ends_at, '[)') WITH &&
) WHERE (status = 'booked')
"""
DROP = "ALTER TABLE booking_booking DROP CONSTRAINT IF EXISTS booking_no_overlap"


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("booking", "0001_initial")]

    operations = [
        BtreeGistExtension(),
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP)),
    ]
