"""The HTML report in a real browser: headless Chromium (Debian's chromium and chromium-driver)
driven by selenium. Skips where either is missing; .ci/run installs them. Screenshots are kept in
$CNNCALC_ARTIFACTS (else pytest's temporary folder)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from cnncalc.figures.report import analyze, collapse
from cnncalc.model import load_graph
from cnncalc.output.page import render_page
from cnncalc.workflows.page import page_figures
from conftest import peer_table

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="Chromium or chromium-driver is not installed")

MODELS = ["lenet5", "resnet50", "googlenet", "densenet121", "unet"]


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,900"):
        options.add_argument(argument)
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pages")
    paths = {}
    for model in MODELS:
        paths[model] = folder / f"{model}.html"
        paths[model].write_text(render_page(page_figures(load_graph(model, None, None))), encoding="utf-8")
    return paths


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("CNNCALC_ARTIFACTS") or tmp_path_factory.mktemp("artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_page(browser, path: Path) -> None:
    browser.get(path.as_uri())
    browser.get_log("browser")  # start each page with an empty console


def errors(browser) -> list:
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def drawn(browser) -> int:
    return len(browser.find_elements("css selector", "#graph .node"))


def set_depth(browser, value: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element("id", "depth")).select_by_value(value)


def details(browser) -> str:
    return browser.find_element("id", "details").text


@pytest.mark.parametrize("model", MODELS)
def test_draws_every_layer_at_every_depth(browser, pages, artifacts, model):
    graph = load_graph(model, None, None)
    report = analyze(graph)
    open_page(browser, pages[model])
    set_depth(browser, "all")
    assert drawn(browser) == len(graph.nodes) + 1  # every layer and the input
    levels = max((len(node.scopes) for node in graph.nodes), default=0)
    for depth in range(1, levels + 1):
        set_depth(browser, str(depth))
        assert drawn(browser) == len(collapse(report, depth).layers), f"depth {depth}"
    set_depth(browser, "all")
    browser.find_element("css selector", "#graph .node:nth-child(2)").click()
    assert browser.save_screenshot(str(artifacts / f"report-{model}.png"))
    assert (artifacts / f"report-{model}.png").stat().st_size > 10_000
    assert errors(browser) == []


def test_clicking_a_node_shows_its_parameters(browser, pages):
    open_page(browser, pages["resnet50"])
    browser.find_element("css selector", '.node[data-name="conv1"]').click()
    text = details(browser)
    assert "conv1" in text and "9,408" in text  # torch: Conv2d(3, 64, 7, bias=False) holds 64·3·7·7
    assert "MACs: 802,816 outputs × 147 = 118,013,952" in text  # the --explain arithmetic
    assert browser.find_elements("css selector", "#rf-picture rect.field")  # its field over the input
    browser.find_element("id", "spec-link").click()
    target = browser.find_element("css selector", "#source-lines div.target")
    assert target.is_displayed() and "conv1" in target.text
    assert errors(browser) == []


def test_a_page_under_autocast_says_so_and_names_each_layers_dtype(browser, tmp_path):
    from cnncalc.figures.amp import Amp

    path = tmp_path / "resnet18.html"
    page = page_figures(load_graph("resnet18", None, None), checkpoint=("layer*",),
                        amp=Amp(dtype="bfloat16", device="cuda"))
    path.write_text(render_page(page), encoding="utf-8")
    open_page(browser, path)
    assert "float32 (autocast cuda:bfloat16)" in browser.find_element("id", "subtitle").text
    totals = browser.find_element("id", "totals").text
    assert "autocast" in totals and "checkpointed" in totals and "layer1, layer2, layer3, layer4" in totals
    browser.find_element("css selector", '.node[data-name="conv1"]').click()
    assert "runs in" in details(browser) and "bfloat16 (autocast)" in details(browser)  # conv2d: autocast's lower list
    assert errors(browser) == []


def test_hovering_an_edge_shows_its_shape(browser, pages):
    from selenium.webdriver.common.action_chains import ActionChains

    open_page(browser, pages["lenet5"])
    edge = browser.find_elements("css selector", "#graph .edge-hit")[0]
    ActionChains(browser).move_to_element(edge).perform()
    tip = browser.find_element("id", "tooltip")
    assert tip.is_displayed() and tip.text == "1×28×28"  # LeNet-5's input, as torch's MNIST tensors


def test_blocks_expand_and_collapse(browser, pages):
    open_page(browser, pages["resnet50"])
    set_depth(browser, "1")
    before = drawn(browser)
    browser.find_element("css selector", '.node[data-name="layer1"] .toggle').click()
    # layer1 opens into its three bottleneck blocks, which stay closed
    assert drawn(browser) == before - 1 + 3
    browser.find_element("css selector", '.node[data-name="layer1.0"]').click()
    assert "75,008" in details(browser)  # torch: sum of model.layer1[0]'s parameters
    browser.find_element("css selector", "#details .crumbs button").click()  # collapse layer1 again
    assert drawn(browser) == before
    assert errors(browser) == []


def test_search_reveals_a_hidden_layer(browser, pages):
    from selenium.webdriver.common.keys import Keys

    open_page(browser, pages["densenet121"])
    set_depth(browser, "1")
    box = browser.find_element("id", "search")
    box.send_keys("denseblock3.denselayer7.conv2")
    box.send_keys(Keys.ENTER)
    selected = browser.find_element("css selector", ".node.selected")
    assert selected.get_attribute("data-name") == "features.denseblock3.denselayer7.conv2"
    assert "36,864" in details(browser)  # torch: Conv2d(128, 32, 3, bias=False)
    assert errors(browser) == []


def test_conventions_panel_shows_each_tool_total(browser, pages):
    open_page(browser, pages["googlenet"])
    text = browser.find_element("id", "conventions").text
    peers = peer_table()["googlenet"]  # measured with each tool (reference/peer_tools_measured.tsv)
    for total in ("fvcore", "torch_flop_counter", "torchinfo_mult_adds", "ptflops_macs", "thop_macs"):
        assert f"{peers[total]:,}" in text


def test_hostile_names_are_shown_as_text(browser, tmp_path):
    from output.test_page import HOSTILE

    spec = tmp_path / "hostile.yaml"
    spec.write_text(HOSTILE)
    page = tmp_path / "hostile.html"
    page.write_text(render_page(page_figures(load_graph(str(spec), None, None))), encoding="utf-8")
    open_page(browser, page)  # an alert would fail this call
    assert browser.find_element("id", "title").text == "</script><script>alert(1)</script>"
    assert drawn(browser) == 3 and not browser.find_elements("css selector", "img")
    assert errors(browser) == []


def test_the_notebook_view_folds_blocks_and_opens_them(browser, tmp_path, artifacts):
    import cnncalc

    page = tmp_path / "notebook.html"
    page.write_text("<!doctype html><meta charset=utf-8><body>" + cnncalc.summary("resnet50")._repr_html_(),
                    encoding="utf-8")
    open_page(browser, page)
    inner = browser.find_element("xpath", "//span[@class='name' and text()='conv1'][ancestor::details]")
    assert not inner.is_displayed()  # layer1's first block starts folded
    browser.find_element("xpath", "//summary[.//span[text()='layer1']]").click()
    browser.find_element("xpath", "//details[.//span[text()='layer1']]//summary[.//span[text()='0']]").click()
    assert inner.is_displayed() and errors(browser) == []
    browser.save_screenshot(str(artifacts / "notebook-resnet50.png"))


def test_figures_past_2_to_the_53_are_shown_exact(browser, tmp_path):
    from output.test_page import HUGE_WEIGHTS, huge_page

    path = tmp_path / "huge.html"
    path.write_text(huge_page(), encoding="utf-8")
    open_page(browser, path)
    totals = browser.find_element("id", "totals").text
    params = HUGE_WEIGHTS + 2**27 + 3  # the weights and a bias per output
    assert f"{params:,}" in totals and f"{HUGE_WEIGHTS:,}" in totals  # parameters; MACs, one per weight
    browser.find_element("css selector", ".node:nth-child(2)").click()
    assert f"{HUGE_WEIGHTS:,}" in details(browser)
    assert errors(browser) == []
