// What Dash 4's components do not say to assistive technology, added in the
// browser and kept as React redraws them:
// - option lists (dcc.RadioItems / dcc.Checklist) are role=listbox with
//   role=option labels around real inputs (interactive inside interactive):
//   they become a radiogroup / group named by the wrapper's data-label;
// - the date slider's thumbs say "Start date" / "End date" and the date
//   (aria-valuetext) instead of "Minimum 0";
// - dropdowns are named by their visible label; the upload's file input too.
(function () {
  var busy = false;

  function set(el, name, value) {
    if (el.getAttribute(name) !== value) { el.setAttribute(name, value); }
  }
  function unset(el, name) {
    if (el.hasAttribute(name)) { el.removeAttribute(name); }
  }
  function fixOptionLists(root) {
    root.querySelectorAll('.dash-options-list').forEach(function (list) {
      set(list, 'role', list.querySelector('input[type=radio]') ? 'radiogroup' : 'group');
      var named = list.closest('[data-label]');
      if (named) { set(list, 'aria-label', named.getAttribute('data-label')); }
      list.querySelectorAll('.dash-options-list-option').forEach(function (option) {
        unset(option, 'role');
        unset(option, 'aria-selected');
      });
    });
  }
  function fixSliders(root) {
    var thumbs = root.querySelectorAll('#date-slider [role=slider]');
    thumbs.forEach(function (thumb, index) {
      set(thumb, 'aria-label', thumbs.length === 2 ? (index === 0 ? 'Start date' : 'End date') : 'Date');
      var now = parseFloat(thumb.getAttribute('aria-valuenow'));
      if (window.dashboardPage && isFinite(now)) { set(thumb, 'aria-valuetext', window.dashboardPage.dayText(now)); }
    });
    root.querySelectorAll('#territory-opacity [role=slider]').forEach(function (thumb) {
      set(thumb, 'aria-label', 'Layer opacity');
      var now = parseFloat(thumb.getAttribute('aria-valuenow'));
      if (isFinite(now)) { set(thumb, 'aria-valuetext', Math.round(now * 100) + ' %'); }
    });
  }
  function fixDropdowns(root) {
    root.querySelectorAll('button.dash-dropdown[id]').forEach(function (button) {
      var named = button.closest('[data-label]');
      if (!named) { return; }
      var labelId = button.id + '-name';
      var label = document.getElementById(labelId);
      if (!label) {
        label = document.createElement('span');
        label.id = labelId;
        label.className = 'visually-hidden';
        label.textContent = named.getAttribute('data-label');
        named.insertBefore(label, named.firstChild);
      }
      var ids = (button.getAttribute('aria-labelledby') || '').split(/\s+/).filter(function (id) { return id && id !== labelId; });
      set(button, 'aria-labelledby', [labelId].concat(ids).join(' '));
      // Dash focuses a hidden input first (aria-hidden, yet reached by Tab): Tab goes to the button itself.
      var wrapper = button.closest('.dash-dropdown-wrapper');
      var decoy = wrapper && wrapper.querySelector('.dash-dropdown-focus-target');
      if (decoy) { set(decoy, 'tabindex', '-1'); }
      set(button, 'tabindex', '0');
    });
  }
  function fixUpload(root) {
    root.querySelectorAll('#import-views input[type=file]').forEach(function (input) {
      set(input, 'aria-label', 'Import saved views from a JSON file');
    });
  }
  function fixAll() {
    if (busy) { return; }
    busy = true;
    try {
      fixOptionLists(document);
      fixSliders(document);
      fixDropdowns(document);
      fixUpload(document);
    } finally {
      busy = false;
    }
  }
  var scheduled = false;
  function schedule() {
    if (scheduled) { return; }
    scheduled = true;
    // Within the same frame: a screen reader never meets the unfixed list.
    Promise.resolve().then(function () { scheduled = false; fixAll(); });
  }
  new MutationObserver(schedule).observe(document.documentElement, {
    childList: true, subtree: true, attributes: true,
    attributeFilter: ['role', 'aria-selected', 'aria-valuenow', 'aria-labelledby', 'tabindex']
  });
  document.addEventListener('DOMContentLoaded', fixAll);
})();
