// Live parts of the station's pages, plain JavaScript (no build chain).
// A job page (section#job) follows its job over Server-Sent Events and reloads once it ends.
(function () {
  "use strict";
  // a person leaving the page (a link, the back button) must not be pulled back by the reload
  var leaving = false;
  window.addEventListener("beforeunload", function () { leaving = true; });
  function follow(section) {
    if (section.dataset.final === "yes" || !window.EventSource) { return; }
    var id = section.dataset.job;
    var source = new EventSource("/jobs/" + id + "/events");
    source.onmessage = function (event) {
      var s = JSON.parse(event.data);
      var state = document.getElementById("job-state");
      var names = JSON.parse(section.dataset.states || "{}");
      state.textContent = names[s.state] || s.state;
      state.className = "state state-" + s.state;
      var labels = JSON.parse(section.dataset.labels || "{}");
      document.getElementById("job-label").textContent = labels[s.label] || s.label || "";
      var bar = document.getElementById("job-progress");
      if (s.percent !== null) { bar.value = s.percent; } else { bar.removeAttribute("value"); }
      // counts of files, not of bytes (a big total is bytes: the bar says enough)
      var counts = s.total && s.total < 100000 ? s.done + " / " + s.total : "";
      document.getElementById("job-counts").textContent = counts;
      if (s.final) {
        source.close();
        if (!leaving) { window.location.reload(); }
      }
    };
    source.addEventListener("log", function (event) {
      var e = JSON.parse(event.data);
      var li = document.createElement("li");
      li.className = e.level;
      li.textContent = e.message;
      document.getElementById("job-log").appendChild(li);
    });
    source.onerror = function () {
      // the station restarted or the network dropped: try again in a moment
      source.close();
      window.setTimeout(function () { follow(section); }, 3000);
    };
  }
  document.addEventListener("DOMContentLoaded", function () {
    var section = document.getElementById("job");
    if (section) { follow(section); }
    // a button with data-confirm asks first (removing studies from the inbox)
    document.querySelectorAll("button[data-confirm]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.dataset.confirm)) { event.preventDefault(); }
      });
    });
    // "select all" boxes: <input type=checkbox data-all="name"> toggles every box of that name
    // (or of that data-group: one sender's studies in the inbox)
    document.querySelectorAll("input[data-all]").forEach(function (box) {
      box.addEventListener("change", function () {
        var all = box.dataset.all;
        var which = "input[name='" + all + "'], input[data-group='" + all + "']";
        document.querySelectorAll(which).forEach(function (b) {
          b.checked = box.checked;
        });
      });
    });
  });
})();
