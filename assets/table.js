// The events table sits below the map: it is made (callbacks.show_table) once it comes near the
// screen, by scrolling or by Tab, so the first load neither draws the grid, nor loads its code
// (async-community.js, 0.9 MB), nor carries its 500 rows.  The rows are asked for once the
// page's answer is in (the count has text and is not being updated): asked for while an answer
// is on its way, they would be those of the view before it.
(function () {
  var MARGIN = '300px 0px';  // a little before it shows: the grid is drawn as it scrolls in
  var RETRY_MS = 150;
  var asked = false;

  function answerIn() {
    var count = document.getElementById('count');
    return !!(count && count.textContent && !count.hasAttribute('data-dash-is-loading'));
  }
  function ask() {
    if (asked) { return; }
    if (!answerIn() || !(window.dash_clientside && window.dash_clientside.set_props)) {
      setTimeout(ask, RETRY_MS);
      return;
    }
    asked = true;
    window.dash_clientside.set_props('table-shown', {data: true});
  }
  function watch() {
    var holder = document.getElementById('table-holder');
    if (!holder) { setTimeout(watch, RETRY_MS); return; }  // React has not drawn the page yet
    if (!('IntersectionObserver' in window)) { ask(); return; }
    var seen = new IntersectionObserver(function (entries) {
      if (entries.some(function (e) { return e.isIntersecting; })) { seen.disconnect(); ask(); }
    }, {rootMargin: MARGIN});
    seen.observe(holder);
  }
  watch();
})();
