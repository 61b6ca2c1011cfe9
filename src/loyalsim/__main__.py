"""``python -m loyalsim``: the same command-line interface as the ``loyalsim`` script."""

from loyalsim.cli.app import main

if __name__ == "__main__":
    main()
