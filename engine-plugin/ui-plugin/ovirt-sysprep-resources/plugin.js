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
// A template is first read from oVirt's REST API (same origin as WebAdmin, the user's SSO
// token): WebAdmin gives plugins a template as {id, name} only (ovirt-engine
// EntityObject.from), so its disks' status (locked while copied, illegal) is asked there.
(function () {
  'use strict';

  var NAME = 'ovirt-sysprep';
  var DIALOG = 'ovirt-sysprep-dialog';
  var BLANK_TEMPLATE = '00000000-0000-0000-0000-000000000000';
  // oVirt's REST API, served by the same engine (and origin) as WebAdmin.
  var OVIRT_API = '/ovirt-engine/api';

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
      // One template, not the Blank one (it has no disk). Its status is not in the
      // entity WebAdmin passes (id and name only): checkFirst asks oVirt on click.
      canRun: function (items) {
        return items.length === 1 && items[0].id !== BLANK_TEMPLATE;
      },
      checkFirst: templateDisksUsable,
      title: function (items) {
        return 'Seal template ' + (items[0].name || items[0].id);
      },
      query: function (items) {
        return 'kind=template&id=' + encodeURIComponent(items[0].id);
      },
    },
  ];

  function warn(message) {
    if (typeof api.showAlert === 'function') api.showAlert('warning', message);
  }

  // Resolves true when every disk of the template is OK in oVirt; else says why (an alert)
  // and resolves false. The engine checks again when the seal is submitted (409 DISK_LOCKED).
  function templateDisksUsable(items) {
    var t = items[0];
    var label = 'Template ' + (t.name || t.id);
    var url = OVIRT_API + '/templates/' + encodeURIComponent(t.id) + '?follow=disk_attachments.disk';
    return fetch(url, {
      credentials: 'omit',
      headers: { Accept: 'application/json', Authorization: 'Bearer ' + api.ssoToken(), Filter: 'true' },
    }).then(function (res) {
      if (!res.ok) throw new Error('oVirt answered HTTP ' + res.status);
      return res.json();
    }).then(function (tpl) {
      var attachments = ((tpl.disk_attachments || {}).disk_attachment) || [];
      for (var i = 0; i < attachments.length; i++) {
        var disk = attachments[i].disk || {};
        var status = lower(disk.status);
        if (status === 'locked' || status === 'illegal') {
          warn(label + ' cannot be sealed now: its disk ' + (disk.alias || disk.name || disk.id) + ' is ' + status +
            (status === 'locked' ? ' (oVirt is copying or moving it); try again once it is OK.' : '; repair it in oVirt first.'));
          return false;
        }
      }
      return true;
    }, function (err) {
      warn(label + ': could not read its disks from oVirt (' + err.message + '); not sealed.');
      return false;
    });
  }

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
          if (!entity.canRun(items)) return;
          if (!entity.checkFirst) return openDialog(entity, items);
          entity.checkFirst(items).then(function (ok) {
            if (ok) openDialog(entity, items);
          });
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
