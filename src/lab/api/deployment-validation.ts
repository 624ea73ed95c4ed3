// An apps/v1 Deployment as it is to be written, checked as the API server checks it (kubernetes
// pkg/apis/apps/validation ValidateDeploymentSpec, ValidateDeploymentStrategy, ValidateRollingUpdateDeployment;
// pkg/registry/apps/deployment/strategy.go ValidateUpdate: spec.selector is immutable in apps/v1). The spec
// is the defaulted one (workload-defaults.ts), as validation runs after defaulting there too. The lab adds one
// bound of its own: at most `maxReplicas` replicas, each a real process on this machine.
import { deepEqual, isObject } from './json.js';
import { isDNS1123Subdomain, validateAnnotations, validateLabels, validateLabelSelector } from './meta-validation.js';
import { validatePodTemplate } from './pod-template-validation.js';
import { selectorMatches, type LabelSelector } from './selectors.js';
import { fieldErrors, type FieldError } from './status.js';

const isInteger = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value);

function nonNegative(value: unknown, field: string): FieldError[] {
  if (!isInteger(value)) return [fieldErrors.invalid(field, value, 'must be an integer')];
  return value < 0 ? [fieldErrors.invalid(field, value, 'must be greater than or equal to 0')] : [];
}

/** IsValidPercent: digits then '%'. */
const PERCENT = /^[0-9]+%$/;

/** getIntOrPercentValue: 25 for '25%' and for 25. */
const intOrPercent = (value: unknown) =>
  typeof value === 'string' && PERCENT.test(value) ? Number(value.slice(0, -1)) : isInteger(value) ? value : 0;

/** ValidatePositiveIntOrPercent. */
function positiveIntOrPercent(value: unknown, field: string): FieldError[] {
  if (typeof value === 'string')
    return PERCENT.test(value)
      ? []
      : [
          fieldErrors.invalid(
            field,
            value,
            "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
          ),
        ];
  if (isInteger(value)) return nonNegative(value, field);
  return [fieldErrors.invalid(field, value, "must be an integer or percentage (e.g '5%')")];
}

/** ValidateDeploymentStrategy and ValidateRollingUpdateDeployment. */
function validateStrategy(strategy: unknown, field: string): FieldError[] {
  if (!isObject(strategy)) return [fieldErrors.invalid(field, strategy, 'must be an object')];
  const { type, rollingUpdate } = strategy;
  if (type === 'Recreate') {
    return rollingUpdate === undefined
      ? []
      : [fieldErrors.forbidden(`${field}.rollingUpdate`, "may not be specified when strategy `type` is 'Recreate'")];
  }
  if (type !== 'RollingUpdate') return [fieldErrors.notSupported(field, strategy, ['Recreate', 'RollingUpdate'])];
  const at = `${field}.rollingUpdate`;
  if (!isObject(rollingUpdate)) return [fieldErrors.required(at, 'this should be defaulted and never be nil')];
  const { maxUnavailable, maxSurge } = rollingUpdate;
  const errors = [
    ...positiveIntOrPercent(maxUnavailable, `${at}.maxUnavailable`),
    ...positiveIntOrPercent(maxSurge, `${at}.maxSurge`),
  ];
  if (intOrPercent(maxUnavailable) === 0 && intOrPercent(maxSurge) === 0)
    errors.push(fieldErrors.invalid(`${at}.maxUnavailable`, maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
  if (typeof maxUnavailable === 'string' && intOrPercent(maxUnavailable) > 100)
    errors.push(fieldErrors.invalid(`${at}.maxUnavailable`, maxUnavailable, 'must not be greater than 100%'));
  return errors;
}

/** ValidateDeploymentSpec, and the replica bound of the lab. */
function validateSpec(spec: unknown, maxReplicas: number): FieldError[] {
  if (!isObject(spec)) return [fieldErrors.required('spec')];
  const errors = nonNegative(spec.replicas, 'spec.replicas');
  if (isInteger(spec.replicas) && spec.replicas > maxReplicas)
    errors.push(fieldErrors.invalid('spec.replicas', spec.replicas, `must be less than or equal to ${maxReplicas}`));
  const { selector, template } = spec;
  let selectorErrors: FieldError[];
  if (selector === undefined) selectorErrors = [fieldErrors.required('spec.selector')];
  else {
    selectorErrors = validateLabelSelector(selector, 'spec.selector');
    const { matchLabels, matchExpressions } = isObject(selector) ? selector : {};
    if (
      !selectorErrors.length &&
      !Object.keys(matchLabels ?? {}).length &&
      !(matchExpressions as unknown[] | undefined)?.length
    )
      selectorErrors.push(fieldErrors.invalid('spec.selector', selector, 'empty selector is invalid for deployment'));
  }
  errors.push(...selectorErrors);
  errors.push(...validatePodTemplate(template, 'spec.template'));
  // ValidatePodTemplateSpecForReplicaSet: the pods the template makes must be the pods the selector selects.
  if (!selectorErrors.length && isObject(template)) {
    const labels = isObject(template.metadata) ? template.metadata.labels : undefined;
    const plain = isObject(labels) && Object.values(labels).every((value) => typeof value === 'string');
    if (!plain || !selectorMatches(selector as LabelSelector, labels as Record<string, string>))
      errors.push(
        fieldErrors.invalid(
          'spec.template.metadata.labels',
          labels ?? {},
          '`selector` does not match template `labels`',
        ),
      );
  }
  errors.push(...validateStrategy(spec.strategy, 'spec.strategy'));
  if (spec.minReadySeconds !== undefined) errors.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errors.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  const deadline = spec.progressDeadlineSeconds;
  errors.push(...nonNegative(deadline, 'spec.progressDeadlineSeconds'));
  if (isInteger(deadline) && deadline <= (isInteger(spec.minReadySeconds) ? spec.minReadySeconds : 0))
    errors.push(fieldErrors.invalid('spec.progressDeadlineSeconds', deadline, 'must be greater than minReadySeconds'));
  if (spec.paused !== undefined && typeof spec.paused !== 'boolean')
    errors.push(fieldErrors.invalid('spec.paused', spec.paused, 'must be a boolean'));
  return errors;
}

/** A selector as Semantic.DeepEqual sees it: an empty list or map is the same as none. */
function comparable(selector: unknown): unknown {
  if (!isObject(selector)) return selector;
  const expressions = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
  return {
    matchLabels: isObject(selector.matchLabels) ? selector.matchLabels : {},
    matchExpressions: expressions.map((e: unknown) => (isObject(e) ? { ...e, values: e.values ?? [] } : e)),
  };
}

export interface DeploymentDraft {
  metadata: { name: string; labels?: unknown; annotations?: unknown };
  spec: unknown;
}

/**
 * The findings on a Deployment about to replace `current` (ValidateDeploymentUpdate plus the immutable
 * selector); none means it may be written.
 */
export function validateDeploymentUpdate(
  next: DeploymentDraft,
  current: { spec?: unknown },
  maxReplicas: number,
): FieldError[] {
  const errors = [
    ...isDNS1123Subdomain(next.metadata.name).map((message) =>
      fieldErrors.invalid('metadata.name', next.metadata.name, message),
    ),
    ...validateLabels(next.metadata.labels, 'metadata.labels'),
    ...validateAnnotations(next.metadata.annotations, 'metadata.annotations'),
    ...validateSpec(next.spec, maxReplicas),
  ];
  const selector = isObject(next.spec) ? next.spec.selector : undefined;
  const before = isObject(current.spec) ? current.spec.selector : undefined;
  if (selector !== undefined && !deepEqual(comparable(selector), comparable(before)))
    errors.push(fieldErrors.invalid('spec.selector', selector, 'field is immutable'));
  return errors;
}
