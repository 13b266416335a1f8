"""The Jinja2 template of the HTML monitoring report (inline CSS; no script, no external file)."""

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Monitoring report: {{ r.monitor.name }}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
       margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: .2em; }
h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
.meta { color: #666; }
table { border-collapse: collapse; margin: .6em 0; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f5f5f5; }
tr.drifted td { background: #fdecea; } tr.failed td { background: #fff4e5; }
.verdict { font-size: 1.05em; padding: .6em 1em; border-left: 5px solid #4c72b0;
           background: #f4f7fb; }
.verdict.bad { border-color: #c44e52; background: #fdf0f0; }
.plots { display: flex; flex-wrap: wrap; gap: 8px; }
.plots figure { margin: 0; border: 1px solid #eee; padding: 4px; }
svg { max-width: 100%; height: auto; }
.ok { color: #2e7d32; } .bad { color: #c62828; }
</style>
</head>
<body>
<h1>Monitoring report: {{ r.monitor.name }}</h1>
<p class="meta">
  {% if r.monitor.deployment %}Deployment <b>{{ r.monitor.deployment }}</b> · {% endif %}
  Window <b>{{ r.window.label }}</b> ({{ r.rows }} rows) ·
  Reference <b>{{ r.reference.ref }}</b>{% if r.reference.model %} (training data of
  {{ r.reference.model }} version {{ r.reference.version }}){% endif %} ·
  Generated {{ r.generated_at | when }}
</p>

<section id="verdict">
<h2>Verdict</h2>
{% set bad = drift and drift.verdict != "no_drift" %}
<div class="verdict{% if bad %} bad{% endif %}">
{% if drift and drift.drifted_columns %}
<p><b>Drifted columns: {{ drift.drifted_columns | join(", ") }}</b></p>
{% endif %}
{% for line in r.headline %}<p>{{ line }}</p>{% endfor %}
{% for check, note in r.notes.items() %}<p><i>{{ check }} skipped:</i> {{ note }}</p>{% endfor %}
</div>
</section>

<section id="summary">
<h2>Drift summary</h2>
{% if drift %}
<p>Verdict: <b>{{ drift.verdict }}</b> — {{ drift.n_drifted }} of {{ drift.n_columns }}
feature columns drifted (share {{ drift.share | num(3) }},
dataset threshold {{ drift.drift_share | num(3) }});
tests at alpha {{ drift.alpha }} with {{ drift.correction }} correction.</p>
<table>
<tr><th>column</th><th>role</th><th>kind</th><th>status</th><th>method</th><th>statistic</th>
<th>p-value (adjusted)</th><th>threshold</th><th>drifted</th></tr>
{% for c in columns %}
<tr class="{% if c.drifted %}drifted{% endif %}">
<td>{{ c.column }}</td><td>{{ c.role }}</td><td>{{ c.kind }}</td><td>{{ c.status }}</td>
<td>{{ c.method or "—" }}</td><td>{{ c.statistic | num }}</td>
<td>{{ c.p_value_adjusted | num }}</td><td>{{ c.threshold | num }}</td>
<td>{% if c.drifted %}<b class="bad">yes</b>{% else %}no{% endif %}</td>
</tr>
{% endfor %}
</table>
{% if drift.schema_issues %}
<h3>Schema</h3>
<ul>{% for i in drift.schema_issues %}<li>{{ i.severity }}: {{ i.message }}</li>{% endfor %}</ul>
{% endif %}
{% else %}
<p>Drift was not computed for this window.</p>
{% endif %}
</section>

<section id="drift">
<h2>Reference vs current, per column</h2>
{% if plots %}
<div class="plots">
{% for c in columns %}{% if c.column in plots %}
<figure>{{ plots[c.column] }}</figure>
{% endif %}{% endfor %}
</div>
{% else %}<p>No distributions to show.</p>{% endif %}
</section>

<section id="quality">
<h2>Data quality</h2>
{% if r.quality %}
<p>{{ r.quality.summary }}</p>
<table>
<tr><th>column</th><th>null rate (ref → now)</th><th>out of range</th>
<th>unseen categories</th><th>issues</th></tr>
{% for c in r.quality.columns %}
<tr class="{% if c.issues %}failed{% endif %}">
<td>{{ c.column }}</td>
<td>{{ c.null_rate_reference | num(3) }} → {{ c.null_rate_current | num(3) }}</td>
<td>{{ c.out_of_range_share | num(3) }}</td>
<td>{{ c.unseen_share | num(3) }}
{%- if c.unseen_categories %} ({{ c.unseen_categories | join(", ") }}){% endif %}</td>
<td>{{ c.issues | join(", ") or "—" }}{% if not c.checked %} not checked{% endif %}</td>
</tr>
{% endfor %}
</table>
{% else %}<p>Data quality was not checked for this window.</p>{% endif %}
</section>

<section id="performance">
<h2>Performance</h2>
{% set p = r.performance %}
{% if p %}
<p>Task {{ p.task }}; {{ p.labelled }} of {{ p.rows }} rows labelled
({{ p.label_rate | num(3) }}).</p>
{% if p.metrics %}
<table>
<tr><th>metric</th><th>this window</th><th>model test</th><th>change</th></tr>
{% for name, value in p.metrics.items() %}
<tr><td>{{ name }}</td><td>{{ value | num }}</td><td>{{ p.baseline.get(name) | num }}</td>
<td>{{ p.deltas.get(name) | num }}</td></tr>
{% endfor %}
</table>
{% endif %}
{% if p.skipped %}<ul>
{% for name, why in p.skipped.items() %}<li>{{ name }}: {{ why }}</li>{% endfor %}
</ul>{% endif %}
{% else %}<p>No performance for this window (no labels were read).</p>{% endif %}
</section>

<section id="operations">
<h2>Operations</h2>
{% if r.operations %}
<table>
{% for key, value in r.operations.items() %}
<tr><th>{{ key }}</th><td>{{ value | num }}</td></tr>
{% endfor %}
</table>
{% else %}<p>No operational figures (not a prediction-log window).</p>{% endif %}
</section>

<section id="timeseries">
<h2>Over time</h2>
{% if charts %}
<div class="plots">
{% for key, svg in charts.items() %}<figure>{{ svg }}</figure>{% endfor %}
</div>
{% else %}
<p>No history stored yet: run the monitor (modelward monitor run {{ r.monitor.name }}).</p>
{% endif %}
</section>

<section id="alerts">
<h2>Open alerts</h2>
{% if r.alerts %}
<table>
<tr><th>id</th><th>severity</th><th>status</th><th>rule</th><th>message</th><th>since</th>
<th>count</th></tr>
{% for a in r.alerts %}
<tr><td>{{ a.id }}</td><td>{{ a.severity }}</td><td>{{ a.status }}</td><td>{{ a.rule }}</td>
<td>{{ a.message }}</td><td>{{ a.first_seen | when }}</td><td>{{ a.count }}</td></tr>
{% endfor %}
</table>
{% else %}<p class="ok">No open alert.</p>{% endif %}
</section>
</body>
</html>
"""
