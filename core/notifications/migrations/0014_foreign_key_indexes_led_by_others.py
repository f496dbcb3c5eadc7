"""Foreign keys whose column leads another index of the same table lose their own
index (issue 14: catalog cost per network); the other index serves every lookup by that
column, the foreign key's cascades included.

The indexes are dropped by name, not by AlterField's database step: that step finds the
index to drop by introspecting the schema, and `hexitime tenants migrate` writes a plan's
SQL out before running any of it, so in a plan that also creates the table (a schema
rolled back further) it would find nothing and drop nothing.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0013_announcements_and_bounces'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='emailpreference',
                    name='member',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='email_preferences', to=settings.AUTH_USER_MODEL),
                ),
            ],
            database_operations=[
                # email_preference_unique leads with member_id
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS notifications_emailpreference_member_id_64c5e6ed',
                    reverse_sql='CREATE INDEX IF NOT EXISTS notifications_emailpreference_member_id_64c5e6ed ON notifications_emailpreference (member_id)',
                ),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='notification',
                    name='recipient',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to=settings.AUTH_USER_MODEL),
                ),
            ],
            database_operations=[
                # notification_recent_idx leads with recipient_id
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS notifications_notification_recipient_id_d055f3f0',
                    reverse_sql='CREATE INDEX IF NOT EXISTS notifications_notification_recipient_id_d055f3f0 ON notifications_notification (recipient_id)',
                ),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='pushsubscription',
                    name='member',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='push_subscriptions', to=settings.AUTH_USER_MODEL),
                ),
            ],
            database_operations=[
                # push_subscription_unique leads with member_id
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS notifications_pushsubscription_member_id_2d51172b',
                    reverse_sql='CREATE INDEX IF NOT EXISTS notifications_pushsubscription_member_id_2d51172b ON notifications_pushsubscription (member_id)',
                ),
            ],
        ),
    ]
