#!/usr/bin/env bash
# Builds every overlay with kustomize and checks it with kubeconform.
set -o errexit
find components -name kustomization.yaml -print0 | while IFS= read -r -d $'\0' f; do
  kustomize build "$(dirname "$f")" | kubeconform -strict -ignore-missing-schemas
done
