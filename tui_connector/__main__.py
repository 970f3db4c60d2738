from tui_connector.cli import main

raise SystemExit(main())
