import { equal, test } from "./harness.js";
import { codeBox, failedLineOf } from "/static/js/codebox.js";

function areaWith(text) {
  const area = document.createElement("textarea");
  area.id = "code";
  area.value = text;
  return area;
}

test("a code box numbers its lines and numbers them again as lines are added", () => {
  const area = areaWith("a\nb");
  const box = codeBox(area);
  const numbers = () => [...box.querySelectorAll(".code-box__number")].map((number) => number.textContent);
  equal(numbers(), ["1", "2"]);
  area.value = "a\nb\nc";
  area.dispatchEvent(new Event("input"));
  equal(numbers(), ["1", "2", "3"]);
});

test("Tab in a code box indents at the caret instead of leaving it", () => {
  const area = areaWith("return x");
  codeBox(area);
  area.setSelectionRange(0, 0);
  const event = new KeyboardEvent("keydown", { key: "Tab", cancelable: true });
  area.dispatchEvent(event);
  equal(event.defaultPrevented, true);
  equal(area.value, "    return x");
});

test("the line a run failed at is marked in the gutter, behind the text and in a note the box describes", () => {
  const area = areaWith("def main(inputs):\n    x = 1\n    return x / 0\n");
  const box = codeBox(area, { failedLine: 3 });
  equal([...box.querySelectorAll(".code-box__number.is-marked")].map((number) => number.textContent), ["3"]);
  equal(area.style.getPropertyValue("--failed-line"), "3");
  equal(box.querySelector(".code-box__note").textContent, "The last run failed at line 3.");
  equal(area.getAttribute("aria-describedby"), "code-failed-line");
});

test("a failed result's line is the one its message ends with; other results name none", () => {
  equal(failedLineOf({ status: "failed", errorMessage: "ZeroDivisionError: division by zero\n(line 3)" }), 3);
  equal(failedLineOf({ status: "failed", errorMessage: "timed out after 5 s" }), null);
  equal(failedLineOf({ status: "succeeded", errorMessage: null }), null);
  equal(failedLineOf(undefined), null);
});
