"""The case on each Nachweis (the case of its Eigenbemühung's plan), kept by the trigger nachweis_case_of_plan, and
the index of a case's open Nachweise the worklist reads (docs/decisions/0009). The case is derived data and not
part of the Nachweis' history.

The existing rows are filled while pghistory's update trigger is removed (it is recreated without the new column
at the end), so the fill writes no history events.
"""

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0006_case_open_by_ifk_index'),
        ('kooperationsplan', '0004_worklist_covering_indexes'),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='eigenbemuehungnachweis',
            name='update_update',
        ),
        migrations.RemoveIndex(
            model_name='eigenbemuehungnachweis',
            name='nachweis_open_by_eb_idx',
        ),
        migrations.AddField(
            model_name='eigenbemuehungnachweis',
            name='case',
            field=models.ForeignKey(db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='cases.case', verbose_name='Fall'),
        ),
        migrations.RunSQL(
            """
            UPDATE "kooperationsplan_eigenbemuehungnachweis" n SET case_id = p.case_id
            FROM "kooperationsplan_eigenbemuehung" e
            JOIN "kooperationsplan_kooperationsplan" p ON p.id = e.plan_id
            WHERE e.id = n.eigenbemuehung_id
            """,
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="eigenbemuehungnachweis",
            name="case",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="cases.case",
                verbose_name="Fall",
            ),
        ),
        migrations.AddIndex(
            model_name='eigenbemuehungnachweis',
            index=models.Index(condition=models.Q(('received_on__isnull', True)), fields=['case', 'due_on'], include=('id', 'period_start', 'period_end'), name='nachweis_open_by_case_idx'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='eigenbemuehungnachweis',
            trigger=pgtrigger.compiler.Trigger(name='nachweis_case_of_plan', sql=pgtrigger.compiler.UpsertTriggerSql(func='NEW.case_id := (SELECT p.case_id FROM "kooperationsplan_eigenbemuehung" e JOIN "kooperationsplan_kooperationsplan" p ON p.id = e.plan_id WHERE e.id = NEW.eigenbemuehung_id); RETURN NEW;', hash='cff9adfb868d4957eb25ea50229ba9df3de9712f', operation='INSERT OR UPDATE', pgid='pgtrigger_nachweis_case_of_plan_58949', table='kooperationsplan_eigenbemuehungnachweis', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='eigenbemuehungnachweis',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD."count_reported" IS DISTINCT FROM (NEW."count_reported") OR OLD."due_on" IS DISTINCT FROM (NEW."due_on") OR OLD."eigenbemuehung_id" IS DISTINCT FROM (NEW."eigenbemuehung_id") OR OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."period_end" IS DISTINCT FROM (NEW."period_end") OR OLD."period_start" IS DISTINCT FROM (NEW."period_start") OR OLD."received_on" IS DISTINCT FROM (NEW."received_on"))', func='INSERT INTO "kooperationsplan_eigenbemuehungnachweisevent" ("count_reported", "due_on", "eigenbemuehung_id", "id", "period_end", "period_start", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "received_on") VALUES (NEW."count_reported", NEW."due_on", NEW."eigenbemuehung_id", NEW."id", NEW."period_end", NEW."period_start", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."received_on"); RETURN NULL;', hash='cab1fe3c470ce8e0beabd9241c119fbd0ccf067c', operation='UPDATE', pgid='pgtrigger_update_update_c1395', table='kooperationsplan_eigenbemuehungnachweis', when='AFTER')),
        ),
    ]
