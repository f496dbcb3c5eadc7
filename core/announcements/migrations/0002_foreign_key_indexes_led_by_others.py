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
        ('announcements', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='recipient',
                    name='announcement',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='recipients', to='announcements.announcement'),
                ),
            ],
            database_operations=[
                # announcement_recipient_unique leads with announcement_id
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS announcements_recipient_announcement_id_6942ed1c',
                    reverse_sql='CREATE INDEX IF NOT EXISTS announcements_recipient_announcement_id_6942ed1c ON announcements_recipient (announcement_id)',
                ),
            ],
        ),
    ]
