"""The public portal's pages: information, the two forms, tracking, the lost link, the survey."""
