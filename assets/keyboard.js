// Keyboard shortcuts: each key clicks the control a mouse user would.
// Keys typed into a field (dates, search, names) are left to the field.
(function () {
  function click(id) {
    var el = document.getElementById(id);
    if (el) { el.click(); }
  }
  function togglePresentation() {
    var box = document.querySelector('#present input[type=checkbox]');
    if (box) { box.click(); }
  }
  document.addEventListener('keydown', function (event) {
    var target = event.target;
    var tag = (target && target.tagName) || '';
    if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || (target && target.isContentEditable)) { return; }
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var handled = true;
    switch (event.key) {
      case 'ArrowLeft': click('step-back'); break;
      case 'ArrowRight': click('step-forward'); break;
      case ' ': click('play'); break;
      case 'p': case 'P': togglePresentation(); break;
      case 'f': case 'F': click('fullscreen'); break;
      case 'PageUp': click('prev-view'); break;
      case 'PageDown': click('next-view'); break;
      case '?': click('help-button'); break;
      case 'Escape':
        var help = document.getElementById('help');
        if (help && !help.hidden) { click('help-button'); } else { handled = false; }
        break;
      default: handled = false;
    }
    if (handled) { event.preventDefault(); }
  });
})();
