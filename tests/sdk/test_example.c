/* The SDK as a third party sees it: install aigtatt with `cmake --install`,
 * build sdk/examples/sepia against the installed package with its own
 * CMakeLists (find_package(Aigtatt)), and run it from a YAML file with the
 * installed CLI. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/helpers.h"

TestSuite(sdk, .timeout = 280);

Test(sdk, example_plugin_builds_against_install_and_runs)
{
    char *dir = th_tmpdir();
    const char *src = th_env("AIGTATT_TEST_SOURCE_DIR"), *build = th_env("AIGTATT_TEST_BUILD_DIR");
    char *out;
    int rc = th_sh(&out, "cmake --install %s --prefix %s/prefix", build, dir);
    cr_assert_eq(rc, 0, "install failed:\n%s", out);
    free(out);

    /* The installed layout the issue names. */
    rc = th_sh(&out, "cd %s/prefix && ls bin/aigtatt lib/libaigtatt.so include/aigtatt/aigtatt.h "
               "lib/cmake/Aigtatt/AigtattConfig.cmake lib/pkgconfig/aigtatt.pc && ls lib/aigtatt/plugins/*.so",
               dir);
    cr_assert_eq(rc, 0, "installed layout incomplete:\n%s", out);
    free(out);

    rc = th_sh(&out, "cmake -S %s/sdk/examples/sepia -B %s/sepia -DCMAKE_PREFIX_PATH=%s/prefix "
               "-DCMAKE_C_FLAGS='-Wall -Wextra -Werror' && cmake --build %s/sepia",
               src, dir, dir, dir);
    cr_assert_eq(rc, 0, "the example does not build against the installed SDK:\n%s", out);
    free(out);

    /* pkg-config works too. */
    rc = th_sh(&out, "PKG_CONFIG_PATH=%s/prefix/lib/pkgconfig cc -shared -fPIC -fvisibility=hidden "
               "$(PKG_CONFIG_PATH=%s/prefix/lib/pkgconfig pkg-config --cflags aigtatt) %s/sdk/examples/sepia/sepia.c "
               "-o %s/pc-sepia.so -lm", dir, dir, src, dir);
    cr_assert_eq(rc, 0, "pkg-config build failed:\n%s", out);
    free(out);

    char yaml[4096];
    snprintf(yaml, sizeof yaml, "%s/x.yaml", dir);
    FILE *f = fopen(yaml, "w");
    fputs("name: sepia-demo\nseed: 3\nnodes:\n"
          "  prompts:\n    use: prompt.template\n    params: {count: 3}\n"
          "  designs:\n    use: image.procedural\n    params: {width: 128, height: 128}\n"
          "    inputs: {prompts: prompts}\n"
          "  toned:\n    use: example.sepia\n    params: {min_strength: 0.9, max_strength: 1.0}\n"
          "    inputs: {images: designs}\n", f);
    fclose(f);
    rc = th_sh(&out, "cd %s && AIGTATT_PLUGIN_PATH=%s/sepia %s/prefix/bin/aigtatt plugins info example.sepia", dir,
               dir, dir);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "min_strength (float) = 0.5"), "%s", out);
    free(out);
    rc = th_sh(&out, "cd %s && AIGTATT_PLUGIN_PATH=%s/sepia %s/prefix/bin/aigtatt run x.yaml --plain", dir, dir, dir);
    cr_assert_eq(rc, 0, "run failed:\n%s", out);
    free(out);
    rc = th_sh(&out, "cd %s/aigtatt-out/sepia-demo/latest/nodes/toned/images && wc -l < manifest.jsonl && "
               "grep -c sepia_strength manifest.jsonl", dir);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_str_eq(out, "3\n3\n", "three toned images with their drawn strength: %s", out);
    free(out);
    th_sh(&out, "rm -rf %s", dir);
    free(out);
    free(dir);
}
