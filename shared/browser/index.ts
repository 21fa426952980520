// What the web page gets of the shared code (bundled by buildBundle.ts as an ES module,
// served at /ui/lib/shared.js): the engine's own value checks, pattern rendering and
// operation selection, so the dialog's live checks are the API's answers, not a port.
export { patternContext, paramsProblem, PATTERN_VARIABLES, renderString, SAMPLE_CONTEXT } from '../catalog/patterns';
export { FINAL_JOB_STATES, isCommitted, JOB_STATES } from '../jobStates';
export { selectedOperations } from '../catalog/operationSelection';
export { readYamlText, yamlText } from '../catalog/yamlText';
