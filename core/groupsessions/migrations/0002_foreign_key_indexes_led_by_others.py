"""Foreign keys whose column leads another index of the same table lose their own
index (issue 14: catalog cost per network); the other index serves every lookup by that
column, the foreign key's cascades included.

The indexes are dropped by name, not by AlterField's database step: that step finds the
index to drop by introspecting the schema, and `hexitime tenants migrate` writes a plan's
SQL out before running any of it, so in a plan that also creates the table (a schema
rolled back further) it would find nothing and drop nothing.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('groupsessions', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='booking',
                    name='session',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='bookings', to='groupsessions.groupsession'),
                ),
            ],
            database_operations=[
                # booking_once_per_member leads with session_id
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS groupsessions_booking_session_id_6623c42d',
                    reverse_sql='CREATE INDEX IF NOT EXISTS groupsessions_booking_session_id_6623c42d ON groupsessions_booking (session_id)',
                ),
            ],
        ),
    ]
