"""`deskbook handbook`: the agents' SOP as one printable HTML file, rendered in headless Chromium."""

from __future__ import annotations

import re
import shutil
from markupsafe import escape as html_escape

import pytest

from browser import ARTIFACTS, chromium_run, console_lines, png_summary
from deskbook.cli import main
from deskbook.handbook import render_handbook
from deskbook.playbooks.loader import load_playbook
from deskbook.scripts_library import load_library
from deskbook.scripts_library.library import APPROVALS_FILE, shipped_library_root

PLAYBOOK = load_playbook()
LIBRARY = load_library()


@pytest.mark.slow
@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_handbook_renders_in_headless_chromium(chromium, tmp_path, capsys, locale):
    page = tmp_path / f"handbook-{locale}.html"
    assert main(["handbook", "--locale", locale, "--out", str(page)]) == 0
    assert str(page) in capsys.readouterr().out
    html = page.read_text(encoding="utf-8")
    # self-contained: nothing fetched from elsewhere, nothing executed
    assert "<script" not in html and "<link" not in html and "src=" not in html and "@import" not in html
    assert re.findall(r'(?:href|src)\s*=\s*"(?!#)[^"]*"', html) == [] and "url(" not in html.replace("url(#arrow)", "")

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"handbook-{locale}.png"
    shot.unlink(missing_ok=True)
    done = chromium_run(chromium, f"--screenshot={shot}", "--window-size=1100,1600", page.as_uri())
    assert shot.is_file(), done.stderr[-2000:]
    console = console_lines(done.stderr)
    assert console == [], console
    width, height, shades = png_summary(shot.read_bytes())
    assert (width, height) == (1100, 1600) and shades > 50  # a drawn page, not a blank one
    shutil.copy(shot, tmp_path / shot.name)

    dom = chromium_run(chromium, "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count('<g class="stage"') == len(PLAYBOOK.stages)  # the diagram: one box per stage
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="process"' in dom.stdout

    pdf = tmp_path / f"handbook-{locale}.pdf"
    printed = chromium_run(chromium, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    assert pdf.is_file(), printed.stderr[-2000:]
    body = pdf.read_bytes()
    assert body.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page[^s]", body)) >= 4  # printable, several A4 pages


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_stage_macro_and_approved_phrase_is_in_the_handbook(locale):
    html = render_handbook(PLAYBOOK, LIBRARY, locale=locale)
    for stage_id, title in PLAYBOOK.stages:
        assert f'id="stage-{stage_id}"' in html and title.get(locale) in html
    for macro in PLAYBOOK.macros:
        assert macro.title.get(locale) in html
    for phrase_id in PLAYBOOK.phrases_used():
        phrase = LIBRARY.phrase(phrase_id, locale)
        first_words = re.split(r"\{\{[^}]*\}\}", phrase.body)[1].strip()[:8]  # literal text after the first variable
        assert first_words in html, (phrase_id, first_words)
    assert 'class="var"' in html  # variables as highlighted examples


def test_diagram_boxes_carry_each_stages_sla_targets_and_timings():
    html = render_handbook(PLAYBOOK, LIBRARY, locale="en")
    box = re.search(r'<g class="stage" id="diagram-S-7">(.*?)</g>', html, re.S).group(1)
    assert "Next reply 30 min" in box  # sla_policies.escalated implements S-7
    box = re.search(r'<g class="stage" id="diagram-S-9">(.*?)</g>', html, re.S).group(1)
    assert "Progress update 24 h" in box and "calendar" in box and "after 24 h" in box  # SLA + automation
    zh = render_handbook(PLAYBOOK, LIBRARY, locale="zh-CN")
    box = re.search(r'<g class="stage" id="diagram-S-2">(.*?)</g>', zh, re.S).group(1)
    assert "首次回复 1 分钟" in box


def test_routing_complaints_forbidden_phrases_and_cadence():
    html = render_handbook(PLAYBOOK, LIBRARY, locale="zh-CN")
    routing = html.split('id="routing"')[1].split('id="complaints"')[0]
    assert "故障" in routing and "技术支持部" in routing  # category -> team
    assert "升级至主管" in routing and "客服主管" in routing  # escalation macro -> team
    forbidden = html.split('id="forbidden"')[1].split('id="cadence"')[0]
    for locale, phrases in PLAYBOOK.forbidden_phrases.items():
        for phrase in phrases:
            assert f'<div class="forbidden">{html_escape(phrase)}</div>' in forbidden
    assert "真的很抱歉" in forbidden and "truly sorry" in forbidden  # the approved alternative in each locale
    cadence = html.split('id="cadence"')[1]
    assert "重点客户" in cadence and "每月" in cadence and "每季度" in cadence
    assert "合同到期前 30 天" in cadence and "首次服务后 7 天" in cadence and "09:00" in cadence


def test_an_unapproved_phrase_stops_the_handbook(tmp_path, capsys):
    scripts = tmp_path / "scripts"
    shutil.copytree(shipped_library_root() / "templates", scripts / "templates")
    shutil.copy2(shipped_library_root() / APPROVALS_FILE, scripts / APPROVALS_FILE)
    template = scripts / "templates" / "en" / "closing.j2"
    template.write_text(template.read_text(encoding="utf-8").replace("All the best", "Cheers"), encoding="utf-8")
    out = tmp_path / "h.html"
    assert main(["handbook", "--scripts", str(scripts), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "refusing unapproved phrase text" in err and "'closing' (en)" in err and "+" in err  # with the diff
    assert "deskbook scripts approve closing --locale en" in err
    assert not out.exists()


def test_an_unknown_locale_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["handbook", "--locale", "fr"])
    assert exited.value.code == 64
