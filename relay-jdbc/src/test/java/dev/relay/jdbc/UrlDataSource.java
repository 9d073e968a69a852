package dev.relay.jdbc;

import javax.sql.DataSource;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import java.util.logging.Logger;

/**
 * A data source over DriverManager whose description is its URL, as many pools and drivers print it (so a
 * password inside the URL reaches any message that describes the data source). Threadsafe.
 */
class UrlDataSource implements DataSource {
    private final String url;
    private final Properties properties;
    private final Driver driver;

    /**
     * @param url the JDBC URL
     * @param driver the driver to use directly (DriverManager would initialise every driver on the test class
     *               path, including snowflake-jdbc's, which takes seconds)
     */
    UrlDataSource(String url, Driver driver) {
        this.url = url;
        this.properties = new Properties();
        this.driver = driver;
    }

    /**
     * @param url the JDBC URL
     * @param properties connection properties, e.g. user and password
     */
    UrlDataSource(String url, Properties properties) {
        this.url = url;
        this.properties = properties;
        this.driver = null;
    }

    @Override
    public Connection getConnection() throws SQLException {
        return driver != null ? driver.connect(url, properties) : DriverManager.getConnection(url, properties);
    }

    @Override
    public Connection getConnection(String user, String password) throws SQLException {
        return DriverManager.getConnection(url, user, password);
    }

    @Override
    public PrintWriter getLogWriter() {
        return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
    }

    @Override
    public void setLoginTimeout(int seconds) {
    }

    @Override
    public int getLoginTimeout() {
        return 0;
    }

    @Override
    public Logger getParentLogger() {
        return Logger.getGlobal();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        throw new SQLException("not a wrapper");
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return false;
    }

    @Override
    public String toString() {
        return "UrlDataSource[" + url + "]";
    }
}
