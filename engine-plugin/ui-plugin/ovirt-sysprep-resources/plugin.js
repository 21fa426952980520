// ovirt-sysprep UI plugin for oVirt's Administration Portal (WebAdmin).
//
// Protocol (oVirt UI plugin API, docs/ui-plugin.md):
//   1. parent.pluginApi(NAME) gives this plugin's API object;
//   2. register() the event handlers; in UiInit add a "Sysprep..." button to the VM,
//      Pool and Template grids (addMenuPlaceActionButton), enabled only for a selection
//      that can run;
//   3. ready() lets WebAdmin call UiInit.
// A click opens the engine's own sysprep dialog (the admin page at <engineUrl>/ui/) in a
// WebAdmin dialog, with the selection and the user's SSO token in the URL fragment (never
// sent to a server; the page moves the token to sessionStorage and out of the URL).
(function () {
  'use strict';

  var NAME = 'ovirt-sysprep';
  var DIALOG = 'ovirt-sysprep-dialog';
  var BLANK_TEMPLATE = '00000000-0000-0000-0000-000000000000';

  var api = parent.pluginApi(NAME);
  var config = api.configObject() || {};
  var engineUrl = String(config.engineUrl || '').replace(/\/+$/, '');

  // WebAdmin passes the selected items either as one array (4.4 typings) or as separate
  // arguments (older versions): accept both.
  function selectionOf(args) {
    if (args.length > 0 && Array.isArray(args[0])) return args[0];
    return Array.prototype.slice.call(args).filter(function (x) { return x && typeof x === 'object'; });
  }

  function lower(v) {
    return String(v == null ? '' : v).toLowerCase();
  }

  var ENTITIES = [
    {
      type: 'VirtualMachine',
      kind: 'vm',
      // virt-sysprep works offline: every selected VM must be Down.
      canRun: function (items) {
        return items.length > 0 && items.every(function (vm) { return lower(vm.status) === 'down'; });
      },
      title: function (items) {
        return items.length === 1 ? 'Sysprep VM ' + (items[0].name || items[0].id) : 'Sysprep ' + items.length + ' VMs';
      },
      query: function (items) {
        return 'kind=vm&ids=' + items.map(function (vm) { return encodeURIComponent(vm.id); }).join(',');
      },
    },
    {
      type: 'Pool',
      kind: 'pool',
      // One pool per job: the engine expands it into one child job per VM.
      canRun: function (items) {
        return items.length === 1;
      },
      title: function (items) {
        return 'Sysprep pool ' + (items[0].name || items[0].id);
      },
      query: function (items) {
        return 'kind=pool&id=' + encodeURIComponent(items[0].id);
      },
    },
    {
      type: 'Template',
      kind: 'template',
      // One template, not the Blank one (it has no disk), not locked or illegal.
      canRun: function (items) {
        if (items.length !== 1 || items[0].id === BLANK_TEMPLATE) return false;
        var status = lower(items[0].status);
        return status !== 'locked' && status !== 'illegal';
      },
      title: function (items) {
        return 'Seal template ' + (items[0].name || items[0].id);
      },
      query: function (items) {
        return 'kind=template&id=' + encodeURIComponent(items[0].id);
      },
    },
  ];

  function openDialog(entity, items) {
    var url = engineUrl + '/ui/#/sysprep?' + entity.query(items) + '&token=' + encodeURIComponent(api.ssoToken());
    api.showDialog(entity.title(items), DIALOG, url, config.dialogWidth || '920px', config.dialogHeight || '680px', {
      buttons: [{ label: 'Close', onClick: function () { api.closeDialog(DIALOG); } }],
      closeIconVisible: true,
      closeOnEscKey: true,
    });
  }

  function addButtons() {
    ENTITIES.forEach(function (entity) {
      api.addMenuPlaceActionButton(entity.type, 'Sysprep...', {
        onClick: function () {
          var items = selectionOf(arguments);
          if (entity.canRun(items)) openDialog(entity, items);
        },
        isEnabled: function () {
          return Boolean(engineUrl) && entity.canRun(selectionOf(arguments));
        },
      });
    });
  }

  api.register({
    UiInit: function () {
      addButtons();
      if (!engineUrl && typeof api.showAlert === 'function') {
        api.showAlert('warning', 'ovirt-sysprep: set "engineUrl" in the plugin configuration (/etc/ovirt-engine/ui-plugins/ovirt-sysprep-config.json)');
      }
    },
    // The dialog page asks to be closed when its own Cancel or Escape is used.
    MessageReceived: function (data) {
      if (data && data.type === 'ovirt-sysprep:close') api.closeDialog(DIALOG);
    },
  });
  if (engineUrl) {
    try {
      api.options({ allowedMessageOrigins: [new URL(engineUrl).origin] });
    } catch (e) {
      // An unparsable engineUrl leaves the buttons disabled (isEnabled) and messages refused.
    }
  }
  api.ready();
})();
