# Sourced from the project root by tools/gpu-check.sh (or by hand: `source tools/gpu-prelude.sh`) on a machine
# that got the project through `npm run gpu-pack`. Leaves $NODE set to a Node ≥ 20. Where the machine lacks what
# the pack carries, it unpacks it: Node, Dawn's binding and the packages the bundles and vitest need (when the
# project's node_modules is missing), and on an NVIDIA machine without a Vulkan loader the loader and glvnd .debs
# into / (without libGLdispatch the NVIDIA ICD fails to load and Dawn reports "Found no drivers"). On a machine
# that has all of it (this project's own, after npm ci) it changes nothing.
if command -v nvidia-smi >/dev/null 2>&1 && ! ldconfig -p | grep -q 'libvulkan.so.1 '; then
  for f in .gpu/debs/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  [ -f "$icd" ] && { export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd; break; }
done
if command -v node >/dev/null 2>&1 && node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; then
  NODE=$(command -v node)
else
  NODE=$(mktemp -d)/node
  xz -dc .gpu/node.xz > "$NODE" && chmod +x "$NODE"
fi
if [ ! -d node_modules/vitest ] || [ ! -d node_modules/webgpu ]; then
  tar -xJf .gpu/node_modules.tar.xz
  rm -rf node_modules/webgpu && mkdir -p node_modules/webgpu/dist/linux-x64 && cp .gpu/webgpu/* node_modules/webgpu/
  xz -dc .gpu/dawn.node.xz > node_modules/webgpu/dist/linux-x64/dawn.node
fi
# Without a display server Dawn's OpenGL fallback needs EGL's surfaceless platform (src/io/dawn.ts sets it too).
export NODE NO_COLOR=1 EGL_PLATFORM=${EGL_PLATFORM:-surfaceless}
echo "prelude: node $($NODE --version), vulkan icd ${VK_DRIVER_FILES:-none}"
