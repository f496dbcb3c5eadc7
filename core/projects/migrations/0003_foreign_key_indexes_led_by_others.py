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
        ('projects', '0002_confirmation_day'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='hoursconfirmation',
                    name='volunteer',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='confirmations', to='projects.volunteer'),
                ),
            ],
            database_operations=[
                # hours_confirmation_once_per_day leads with volunteer_id
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS projects_hoursconfirmation_volunteer_id_04c74016',
                    reverse_sql='CREATE INDEX IF NOT EXISTS projects_hoursconfirmation_volunteer_id_04c74016 ON projects_hoursconfirmation (volunteer_id)',
                ),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='volunteer',
                    name='project',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='volunteers', to='projects.project'),
                ),
            ],
            database_operations=[
                # volunteer_once_per_project leads with project_id
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS projects_volunteer_project_id_9a730e88',
                    reverse_sql='CREATE INDEX IF NOT EXISTS projects_volunteer_project_id_9a730e88 ON projects_volunteer (project_id)',
                ),
            ],
        ),
    ]
