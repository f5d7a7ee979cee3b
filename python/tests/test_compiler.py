"""fattn.compile_program through fattn-run, and Kernel.load's failures.

Runs on the compiler machine (skipped where fattn-run is absent, e.g. the
GPU machines). The examples are f32 CPU programs; the GPU path takes bf16
and f16 only, so each is also compiled with its element type rewritten.
"""

import ctypes
import glob
import os
import re
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))

import fattn  # noqa: E402
from fattn import CompileError, FattnError  # noqa: E402

def forward_examples():
    """examples/*.mlir but the gradient programs, which have no GPU kernels
    yet."""
    paths = sorted(glob.glob(os.path.join(fattn.library.REPO_ROOT, "examples",
                                          "*.mlir")))
    forward = []
    for path in paths:
        with open(path) as file:
            if "fattn.attention_grad" not in file.read():
                forward.append(path)
    return forward


EXAMPLES = forward_examples()


def fattn_run_or_none():
    try:
        return fattn.find_fattn_run()
    except FattnError:
        return None


def have_cuda_driver():
    try:
        ctypes.CDLL("libcuda.so.1")
        return True
    except OSError:
        return False


def as_bf16(program_text):
    """PROGRAM_TEXT with q, k, v and out in bf16; lse stays f32 (its type is
    the only 2-D tensor)."""
    return re.sub(r"tensor<(\d+x\d+x\d+)xf32>", r"tensor<\1xbf16>",
                  program_text)


class TemporaryDirectoryTest(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix="fattn-python-test-")
        self.addCleanup(shutil.rmtree, self.directory)

    def write(self, name, text):
        path = os.path.join(self.directory, name)
        with open(path, "w") as file:
            file.write(text)
        return path


@unittest.skipIf(fattn_run_or_none() is None,
                 "fattn-run not found (set FATTN_RUN or build it)")
class CompileProgramTest(TemporaryDirectoryTest):
    def compile_bf16_example(self, example, **options):
        with open(example) as file:
            text = as_bf16(file.read())
        program = self.write(os.path.basename(example), text)
        return fattn.compile_program(program, os.path.join(self.directory,
                                                           "kernels"),
                                     **options)

    def test_examples_in_bf16(self):
        self.assertTrue(EXAMPLES, "no examples/*.mlir")
        for example in EXAMPLES:
            with self.subTest(example=os.path.basename(example)):
                compiled = self.compile_bf16_example(example)
                stem = os.path.splitext(os.path.basename(example))[0]
                self.assertEqual(
                    compiled.manifest_path,
                    os.path.join(self.directory, "kernels",
                                 stem + ".manifest"))
                self.assertTrue(os.path.isfile(compiled.manifest_path))
                self.assertTrue(os.path.isfile(os.path.join(
                    self.directory, "kernels", stem + ".ptx")))
                self.assertIsInstance(compiled.compile_seconds, float)
                self.assertGreater(compiled.compile_seconds, 0)

    def test_options_reach_fattn_run(self):
        compiled = self.compile_bf16_example(EXAMPLES[0], chip="sm_80",
                                             block_q=64, block_k=32,
                                             warps=4, stages=3)
        ptx = os.path.splitext(compiled.manifest_path)[0] + ".ptx"
        with open(ptx) as file:
            self.assertRegex(file.read(), r"(?m)^\.target sm_80\b")
        # An impossible tiling proves block_q and warps are passed: fattn-run
        # names the constraint.
        with self.assertRaisesRegex(CompileError,
                                    "block-q must be a multiple of 16 x "
                                    "warps, got 64"):
            self.compile_bf16_example(EXAMPLES[0], block_q=64, warps=8)

    def test_f32_program_is_rejected_with_the_reason(self):
        with self.assertRaises(CompileError) as caught:
            fattn.compile_program(EXAMPLES[0], self.directory)
        self.assertIn("GPU kernels take bf16 or f16 programs",
                      caught.exception.stderr)
        self.assertIn("GPU kernels take bf16 or f16 programs",
                      str(caught.exception))

    def test_malformed_program(self):
        program = self.write("broken.mlir", "func.func @attention( {\n")
        with self.assertRaises(CompileError) as caught:
            fattn.compile_program(program, self.directory)
        error = caught.exception
        self.assertIsNone(error.status)
        self.assertNotEqual(error.returncode, 0)
        # fattn-run's diagnostic, with its location, is carried verbatim.
        self.assertRegex(error.stderr, re.escape(program) + r":1:\d+: error:")
        self.assertIn(error.stderr.strip(), str(error))
        self.assertFalse(os.path.exists(os.path.join(self.directory,
                                                     "broken.manifest")))

    def test_missing_program(self):
        missing = os.path.join(self.directory, "missing.mlir")
        with self.assertRaisesRegex(CompileError, "cannot open input file"):
            fattn.compile_program(missing, self.directory)

    def test_explicit_tool_path(self):
        with self.assertRaisesRegex(FattnError, "fattn-run not found; tried "
                                    "/nonexistent/fattn-run$"):
            fattn.compile_program(EXAMPLES[0], self.directory,
                                  fattn_run="/nonexistent/fattn-run")


class KernelLoadTest(TemporaryDirectoryTest):
    def assert_load_fails(self, manifest, status, pattern):
        with self.assertRaises(FattnError) as caught:
            fattn.Kernel.load(manifest)
        self.assertEqual(caught.exception.status, status)
        self.assertRegex(caught.exception.reason, pattern)

    def test_missing_manifest(self):
        missing = os.path.join(self.directory, "missing.manifest")
        self.assert_load_fails(missing, "FATTN_STATUS_BAD_MANIFEST",
                               re.escape(missing))

    def test_malformed_manifest(self):
        manifest = self.write("junk.manifest", "not a manifest\n")
        self.assert_load_fails(manifest, "FATTN_STATUS_BAD_MANIFEST",
                               re.escape(manifest))

    @unittest.skipIf(fattn_run_or_none() is None, "fattn-run not found")
    def test_compiled_kernel(self):
        with open(os.path.join(fattn.library.REPO_ROOT, "examples",
                               "causal.mlir")) as file:
            program = self.write("causal.mlir", as_bf16(file.read()))
        manifest = fattn.compile_program(program, self.directory).manifest_path

        # The manifest names its PTX; without it the manifest is unusable,
        # which the runtime reports before it looks for a driver.
        orphan_dir = os.path.join(self.directory, "orphan")
        os.mkdir(orphan_dir)
        orphan = shutil.copy(manifest, orphan_dir)
        self.assert_load_fails(orphan, "FATTN_STATUS_BAD_MANIFEST", "PTX")

        if have_cuda_driver():
            self.skipTest("a CUDA driver is present; test_gpu.py loads "
                          "kernels there")
        self.assert_load_fails(manifest, "FATTN_STATUS_NO_DRIVER",
                               "libcuda.so.1")


class LibraryTest(unittest.TestCase):
    def test_explicit_path_not_found(self):
        with self.assertRaisesRegex(FattnError, "libfattn_runtime.so not "
                                    "found; tried /nonexistent/lib.so$"):
            fattn.load_library("/nonexistent/lib.so")

    def test_environment_comes_first(self):
        previous = os.environ.get(fattn.library.LIBRARY_ENV)
        self.addCleanup(self.restore_environment, previous)
        os.environ[fattn.library.LIBRARY_ENV] = "/from/the/environment.so"
        paths = fattn.default_library_paths()
        self.assertEqual(paths[0], "/from/the/environment.so")
        self.assertEqual([os.path.relpath(path, fattn.library.REPO_ROOT)
                          for path in paths[1:]],
                         ["build-rt/lib/libfattn_runtime.so",
                          "build/lib/libfattn_runtime.so"])

    @staticmethod
    def restore_environment(previous):
        if previous is None:
            os.environ.pop(fattn.library.LIBRARY_ENV, None)
        else:
            os.environ[fattn.library.LIBRARY_ENV] = previous

    def test_not_a_library(self):
        with tempfile.NamedTemporaryFile(suffix=".so") as file:
            with self.assertRaisesRegex(FattnError, "cannot load " +
                                        re.escape(file.name)):
                fattn.load_library(file.name)

    def test_one_library_per_path(self):
        library = fattn.load_library()
        self.assertIs(fattn.load_library(library.path), library)


if __name__ == "__main__":
    unittest.main()
