"""Static checks of the container files (no Docker engine runs on these machines)."""
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_services_build_the_one_image_and_run_known_commands():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services, "docker-compose.yml lists no services"
    for name, svc in services.items():
        assert svc.get("build") == "." and svc.get("image") == "xieshang:latest", name
        assert (ROOT / "services" / name).is_dir(), f"services/{name}/ is missing"
        assert svc["command"][0] in {"interop-server"}, f"{name}: unknown subcommand {svc['command'][0]}"
        assert "0.0.0.0" in svc["command"], f"{name} must bind all interfaces in a container"


def test_dockerfile_builds_the_xieshang_product_with_the_runtime_libraries():
    text = (ROOT / "Dockerfile").read_text()
    assert "--product xieshang" in text
    for lib in ("libnghttp2-14", "libprotobuf-c1"):
        assert lib in text, f"runtime image lacks {lib}"
    assert 'ENTRYPOINT ["/usr/local/bin/xieshang"]' in text
