from hyoka.cli import main

# Guarded: collect reads many files in worker processes, which import this module again on Windows.
if __name__ == "__main__":
    main()
