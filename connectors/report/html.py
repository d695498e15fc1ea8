"""The weekly review as one self-contained HTML page (charts as inline SVG drawn by pygal).

Nothing is fetched or run when the page opens: pygal's SVG is rendered as an element tree and its
one `<script>` (tooltip configuration) is dropped; the CSS is inline; the fonts are the reader's
(CJK: WenQuanYi Micro Hei or Noto CJK when installed). Texts come from the playbook (titles,
option labels) and the table `LABELS` here, in the playbook's locale (zh-CN or en). `@media print`
lays the page out on A4 with each chart kept whole. A chart whose data is empty is not drawn: the
section says so instead (`<p class="empty">`), so a drawn `<svg class="chart">` always has data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from markupsafe import escape

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Weekly service review", "window": "Period", "desk": "Desk", "requests": "Requests",
        "solved": "Solved", "first_reply": "First reply time (minutes)", "average": "Average", "median": "Median",
        "calendar": "Calendar hours", "business": "Business hours", "fcr": "First-contact resolution",
        "satisfaction": "Satisfaction (1–5)", "response_speed": "Response speed", "resolution": "Resolution",
        "attitude": "Attitude", "responses": "Survey answers", "desk_rating": "Desk rating (good / bad)",
        "sla": "SLA attainment per target", "met": "Met", "breached": "Breached", "open": "Open",
        "complaints": "Complaints by root cause", "remedies": "Complaints by remedy",
        "relationship": "Relationship work: due vs done", "due": "Due", "done": "Done",
        "renewals": "Renewals", "callbacks": "Callbacks", "followups": "New-customer follow-ups",
        "backlog": "Backlog by age", "under_1_day": "< 1 day", "1_to_3_days": "1–3 days",
        "3_to_7_days": "3–7 days", "over_7_days": "> 7 days", "intake": "Requests per day by channel",
        "caught": "Forbidden phrases caught", "cases": "Cases to review", "case": "Request", "reasons": "Why",
        "sla_breach": "SLA breach", "complaint": "Complaint", "low_score": "Low score", "bad_rating": "Bad rating",
        "forbidden_phrase": "Forbidden phrase", "no_data": "No data in this period.", "none": "—",
        "read": "Read in {n} requests to the desk.", "unrecorded": "Not recorded", "metric": "Target",
        "first_reply_time": "first reply", "next_reply_time": "next reply", "periodic_update_time": "periodic update",
        "oldest": "oldest {d} days", "generated": "Generated",
    },
    "zh-CN": {
        "title": "每周服务复盘", "window": "统计周期", "desk": "服务台", "requests": "请求数",
        "solved": "已解决", "first_reply": "首次响应时间（分钟）", "average": "平均", "median": "中位数",
        "calendar": "自然时间", "business": "工作时间", "fcr": "首次接触解决率",
        "satisfaction": "满意度（1–5分）", "response_speed": "响应速度", "resolution": "解决效果",
        "attitude": "服务态度", "responses": "调查答复数", "desk_rating": "服务台评价（满意 / 不满意）",
        "sla": "各项服务时限达成情况", "met": "达成", "breached": "超时", "open": "进行中",
        "complaints": "投诉根因分布", "remedies": "补救措施分布",
        "relationship": "客户关系维护：应做与已做", "due": "应做", "done": "已做",
        "renewals": "续约提醒", "callbacks": "定期回访", "followups": "新客户回访",
        "backlog": "积压请求账龄", "under_1_day": "不足1天", "1_to_3_days": "1–3天",
        "3_to_7_days": "3–7天", "over_7_days": "超过7天", "intake": "每日各渠道请求数",
        "caught": "拦截禁用语次数", "cases": "待复盘案例", "case": "请求", "reasons": "原因",
        "sla_breach": "超出时限", "complaint": "投诉", "low_score": "低分", "bad_rating": "差评",
        "forbidden_phrase": "使用禁用语", "no_data": "本期无数据。", "none": "—",
        "read": "共调用服务台接口 {n} 次。", "unrecorded": "未记录", "metric": "时限",
        "first_reply_time": "首次响应", "next_reply_time": "后续响应", "periodic_update_time": "定期同步进度",
        "oldest": "最久 {d} 天", "generated": "生成时间",
    },
}

CSS = """
  :root { --ink: #1d2433; --muted: #5b6475; --line: #d9dde5; --accent: #1b6ac9; }
  * { box-sizing: border-box; }
  body { font-family: "Noto Sans", "Helvetica Neue", Arial, "WenQuanYi Micro Hei", "Noto Sans CJK SC", sans-serif;
         color: var(--ink); margin: 24px auto; max-width: 1040px; padding: 0 16px; line-height: 1.45; }
  h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); }
  .meta { color: var(--muted); margin: 0 0 16px; }
  .tiles { display: grid; grid-template-columns: repeat(4, 1fr); gap: 10px; }
  .tile { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
  .tile b { display: block; font-size: 22px; } .tile span { color: var(--muted); font-size: 13px; }
  .charts { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
  figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 8px; break-inside: avoid; }
  figcaption { font-weight: 600; margin: 0 0 4px; }
  svg.chart { width: 100%; height: auto; display: block; }
  p.empty { color: var(--muted); font-style: italic; }
  table { border-collapse: collapse; width: 100%; font-size: 14px; }
  th, td { border-bottom: 1px solid var(--line); padding: 5px 6px; text-align: left; vertical-align: top; }
  a { color: var(--accent); }
  @media print {
    @page { size: A4; margin: 14mm; }
    body { margin: 0; max-width: none; font-size: 11pt; }
    .charts { grid-template-columns: 1fr 1fr; }
    figure, .tile, tr { break-inside: avoid; }
    a { color: inherit; text-decoration: none; }
  }
"""


def _text(value: Any, locale: str) -> str:
    """A playbook text (`Localized`, or a plain dict/str) in `locale`."""
    if hasattr(value, "get") and not isinstance(value, dict):
        return str(value.get(locale))
    if isinstance(value, dict):
        return str(value.get(locale) or next(iter(value.values()), ""))
    return str(value)


def option_labels(playbook: Any, field_key: str, locale: str) -> dict[str, str]:
    """A dropdown's option value -> its label in `locale`."""
    for fld in playbook.fields:
        if fld.key == field_key:
            return {o.value: _text(o.label, locale) for o in fld.options}
    return {}


def _chart(kind: str, title: str, series: list[tuple[str, list[float]]], labels: list[str], **config: Any) -> str:
    """One pygal chart as an inline `<svg class="chart">` without its script; "" when it has no data."""
    if not labels or not any(v for _, values in series for v in values):
        return ""
    import pygal
    from pygal.style import Style

    style = Style(font_family='"Noto Sans", Arial, "WenQuanYi Micro Hei", "Noto Sans CJK SC", sans-serif',
                  background="white", plot_background="white",
                  colors=("#1b6ac9", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d6a9f", "#30638e"),
                  label_font_size=13, major_label_font_size=13, legend_font_size=13, value_font_size=12,
                  title_font_size=15)
    chart = getattr(pygal, kind)(js=[], style=style, width=520, height=320, disable_xml_declaration=True,
                                 show_legend=len(series) > 1 or kind == "Pie", legend_at_bottom=True,
                                 print_values=kind != "Pie", explicit_size=False, **config)
    chart.x_labels = labels
    if kind == "Pie":
        for label, value in zip(labels, series[0][1], strict=True):
            if value:
                chart.add(label, [value])
    else:
        for name, values in series:
            chart.add(name, values)
    tree = chart.render_tree()
    for parent in list(tree.iter()):
        for child in list(parent):
            if str(child.tag).endswith("script"):
                parent.remove(child)
    tree.set("class", "chart pygal-chart")
    from pygal.etree import etree

    return str(etree.tostring(tree, encoding="unicode"))


def charts(report: dict[str, Any], playbook: Any, locale: str) -> list[tuple[str, str]]:
    """(caption, svg or "") of every chart the review shows, in order."""
    L = LABELS.get(locale, LABELS["en"])
    out: list[tuple[str, str]] = []
    by_day = report["intake"]["by_day"]
    days = list(by_day)
    channels = sorted({c for counts in by_day.values() for c in counts})
    out.append((L["intake"], _chart("StackedBar", L["intake"],
                                    [(c, [by_day[d].get(c, 0) for d in days]) for c in channels],
                                    [dt.date.fromisoformat(d).strftime("%m-%d") for d in days])))
    fr = report["first_reply_minutes"]
    out.append((L["first_reply"], _chart("Bar", L["first_reply"], [
        (L["average"], [fr["average"] or 0, fr["business"]["average"] or 0]),
        (L["median"], [fr["median"] or 0, fr["business"]["median"] or 0])], [L["calendar"], L["business"]])))
    sla = report["sla"]["by_target"]
    titles = {p.key: _text(p.title, locale) for p in playbook.sla_policies}
    out.append((L["sla"], _chart("HorizontalStackedBar", L["sla"], [
        (L[k], [row[k] for row in sla]) for k in ("met", "breached", "open")],
        [f"{titles.get(row['policy'], row['policy'])}: {L.get(row['metric'], row['metric'])}" for row in sla],
        truncate_label=30)))
    sat = report["satisfaction"]
    out.append((L["satisfaction"], _chart("Bar", L["satisfaction"], [
        (L["satisfaction"], [sat[k] or 0 for k in ("response_speed", "resolution", "attitude")])],
        [L["response_speed"], L["resolution"], L["attitude"]], range=(0, 5))))
    for caption, counts, field in ((L["complaints"], report["complaints_by_root_cause"], "root_cause"),
                                   (L["remedies"], report["complaints_by_remedy"], "remedy")):
        names = option_labels(playbook, field, locale)
        out.append((caption, _chart("Pie", caption, [("", list(counts.values()))],
                                    [names.get(k, L["unrecorded"] if k == "unrecorded" else k) for k in counts])))
    rel = report["relationship"]
    out.append((L["relationship"], _chart("Bar", L["relationship"], [
        (L["due"], [v["due"] for v in rel.values()]), (L["done"], [v["done"] for v in rel.values()])],
        [L.get(k, k) for k in rel])))
    ages = report["backlog"]["by_age"]
    out.append((L["backlog"], _chart("Bar", L["backlog"], [(L["backlog"], list(ages.values()))],
                                     [L.get(k, k) for k in ages])))
    return out


def render_html(report: dict[str, Any], playbook: Any, locale: str) -> str:
    """The whole page."""
    L = LABELS.get(locale, LABELS["en"])
    e = lambda v: str(escape(v))  # noqa: E731
    fr, sat = report["first_reply_minutes"], report["satisfaction"]
    fcr = report["first_contact_resolution_rate"]
    sla = report["sla"]
    dash = L["none"]
    tiles = [
        (L["requests"], report["intake"]["requests"]), (L["solved"], report["intake"]["solved"]),
        (f"{L['first_reply']} · {L['average']}", dash if fr["average"] is None else fr["average"]),
        (f"{L['first_reply']} · {L['median']}", dash if fr["median"] is None else fr["median"]),
        (L["fcr"], dash if fcr is None else f"{fcr:.0%}"),
        (L["responses"], sat["responses"]),
        (L["desk_rating"], f"{sat['desk_rating']['good']} / {sat['desk_rating']['bad']}"),
        (f"SLA · {L['met']} / {L['breached']} / {L['open']}", f"{sla['met']} / {sla['breached']} / {sla['open']}"),
        (L["caught"], report["forbidden_phrases_caught"]),
        (L["backlog"], f"{report['backlog']['open']}" + (
            f" ({L['oldest'].format(d=report['backlog']['oldest_age_days'])})" if report["backlog"]["oldest_age_days"] else "")),
        (L["cases"], len(report["cases_to_review"])),
    ]
    figures = []
    for caption, svg in charts(report, playbook, locale):
        body = svg or f'<p class="empty">{e(L["no_data"])}</p>'
        figures.append(f"<figure><figcaption>{e(caption)}</figcaption>{body}</figure>")
    rows = "".join(
        f'<tr><td><a href="{e(c["link"])}">#{e(c["id"])}</a> {e(c["subject"])}</td>'
        f'<td>{e(", ".join(L.get(r, r) for r in c["reasons"]))}</td></tr>' for c in report["cases_to_review"])
    cases = (f'<table><tr><th>{e(L["case"])}</th><th>{e(L["reasons"])}</th></tr>{rows}</table>' if rows
             else f'<p class="empty">{e(L["no_data"])}</p>')
    title = f"{L['title']} · {_text(playbook.metadata.title, locale)}"
    window = report["window"]
    return f"""<!DOCTYPE html>
<html lang="{e(locale)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} · {e(window['label'])}</title>
<style>{CSS}</style>
</head>
<body>
<h1>{e(title)}</h1>
<p class="meta">{e(L['window'])}: {e(window['label'])} ({e(window['from'][:10])} – {e(window['to'][:10])}, {e(window['time_zone'])})
 · {e(L['desk'])}: {e(report['desk'])} · {e(L['read'].format(n=report['requests']['total']))}</p>
<section class="tiles">
{''.join(f'<div class="tile"><b>{e(v)}</b><span>{e(k)}</span></div>' for k, v in tiles)}
</section>
<h2>{e(L['title'])}</h2>
<section class="charts">
{''.join(figures)}
</section>
<h2>{e(L['cases'])}</h2>
{cases}
</body>
</html>
"""
