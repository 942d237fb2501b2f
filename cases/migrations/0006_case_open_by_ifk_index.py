
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0005_calendar_token_created_on_the_app_clock'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('closed_on__isnull', True)), fields=['responsible', 'team'], include=('id',), name='case_open_by_ifk_idx'),
        ),
    ]
